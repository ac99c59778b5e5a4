// End-to-end flow of the Kalito Sessions GraphQL API driven by a real Apollo Client 4.
//
//   node flow.mjs [URL]        URL of the endpoint (or of the server root), else $KALITO_URL,
//                              else http://127.0.0.1:8000/graphql
//   KALITO_API_TOKEN=...       sent as "Authorization: Bearer ..." when set
//
// Prints one line of JSON on success; on any failure prints the error to stderr and exits 1.

import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import {
  ApolloClient,
  ApolloLink,
  CombinedGraphQLErrors,
  HttpLink,
  InMemoryCache,
  gql,
  version as apolloVersion,
} from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { getMainDefinition, relayStylePagination } from "@apollo/client/utilities";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const GRAPHQL_RESPONSE_JSON = "application/graphql-response+json";

function endpoint(raw) {
  const url = new URL(raw || "http://127.0.0.1:8000/graphql");
  if (url.pathname === "/" || url.pathname === "") url.pathname = "/graphql";
  return url.toString();
}

const url = endpoint(process.argv[2] || process.env.KALITO_URL);

// Every HTTP exchange Apollo makes, so the flow can check the wire too (what Apollo asked
// for, what the server answered with), not only what Apollo hands back.
const exchanges = [];
async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  const body = typeof init?.body === "string" ? JSON.parse(init.body) : {};
  const headers = new Headers(init?.headers);
  exchanges.push({
    operation: body.operationName ?? null,
    method: init?.method ?? "GET",
    accept: headers.get("accept"),
    status: response.status,
    contentType: response.headers.get("content-type"),
  });
  return response;
}

const headers = process.env.KALITO_API_TOKEN
  ? { authorization: `Bearer ${process.env.KALITO_API_TOKEN}` }
  : {};

// Subscriptions over graphql-transport-ws on the same URL; everything else over HTTP: the
// setup the README recommends.
const wsClient = createClient({
  url: url.replace(/^http/, "ws"),
  webSocketImpl: WebSocket,
  connectionParams: headers.authorization ? { Authorization: headers.authorization } : {},
});
const isSubscription = ({ query }) => {
  const definition = getMainDefinition(query);
  return definition.kind === "OperationDefinition" && definition.operation === "subscription";
};

const client = new ApolloClient({
  link: ApolloLink.split(
    isSubscription,
    new GraphQLWsLink(wsClient),
    new HttpLink({ uri: url, fetch: recordingFetch, headers }),
  ),
  // The cache policy the README recommends: session(id) reads the normalized Session:<id>
  // (so a session first seen in a list or an event needs no request), and the sessions
  // connection is one Relay-paginated list per filter and order.
  cache: new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          session: {
            read: (existing, { args, toReference }) =>
              existing ?? toReference({ __typename: "Session", id: args.id }),
          },
          sessions: relayStylePagination(["filter", "orderBy"]),
        },
      },
    },
  }),
});

const SESSION_FIELDS = gql`
  fragment SessionFields on Session {
    id
    name
    model
    recap
    personaId
    saved
    createdAt
    updatedAt
    messageCount
  }
`;

const CREATE_SESSION = gql`
  mutation CreateSession($input: CreateSessionInput!) {
    createSession(input: $input) { ...SessionFields }
  }
  ${SESSION_FIELDS}
`;

const SESSIONS = gql`
  query Sessions($filter: SessionFilter, $first: Int) {
    sessions(filter: $filter, first: $first) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ...SessionFields } }
    }
  }
  ${SESSION_FIELDS}
`;

const SESSION = gql`
  query Session($id: ID!) {
    session(id: $id) { ...SessionFields }
  }
  ${SESSION_FIELDS}
`;

const SAVE_SESSION = gql`
  mutation SaveSession($id: ID!, $name: String) {
    saveSession(id: $id, name: $name) { ...SessionFields }
  }
  ${SESSION_FIELDS}
`;

const UPDATE_SESSION = gql`
  mutation UpdateSession($input: UpdateSessionInput!) {
    updateSession(input: $input) { ...SessionFields }
  }
  ${SESSION_FIELDS}
`;

const SESSION_EVENTS = gql`
  subscription SessionEvents($id: ID) {
    sessionEvents(id: $id) { kind sessionId session { ...SessionFields } }
  }
  ${SESSION_FIELDS}
`;

const TOUCH_SESSION = gql`
  mutation TouchSession($id: ID) {
    touchSession(id: $id) { ...SessionFields }
  }
  ${SESSION_FIELDS}
`;

const APPEND_MESSAGE = gql`
  mutation AppendMessage($input: AppendMessageInput!) {
    appendMessage(input: $input) { id }
  }
`;

const DELETE_SESSION = gql`
  mutation DeleteSession($id: ID!) {
    deleteSession(id: $id)
  }
`;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function assertSession(session, expected) {
  assert.ok(session, "expected a session, got none");
  assert.equal(session.__typename, "Session");
  for (const [field, value] of Object.entries(expected)) {
    assert.deepEqual(session[field], value, `session.${field}`);
  }
  assert.match(session.createdAt, ISO_UTC, "createdAt is ISO 8601 in UTC");
  assert.match(session.updatedAt, ISO_UTC, "updatedAt is ISO 8601 in UTC");
}

/** The single GraphQL error of a CombinedGraphQLErrors, checked to carry `code`. */
function singleError(error, code) {
  assert.ok(
    CombinedGraphQLErrors.is(error),
    `expected CombinedGraphQLErrors, got ${error?.constructor?.name}: ${error?.message}`,
  );
  assert.equal(error.errors.length, 1, JSON.stringify(error.errors));
  const [graphQLError] = error.errors;
  assert.equal(graphQLError.extensions?.code, code, JSON.stringify(graphQLError));
  return graphQLError;
}

async function listSessions(filter) {
  const { data } = await client.query({
    query: SESSIONS,
    variables: { filter, first: 100 },
    fetchPolicy: "network-only",
  });
  return data.sessions;
}

const steps = [];
function step(name, detail = {}) {
  steps.push({ step: name, ...detail });
}

async function main() {
  const id = `e2e-${randomUUID()}`;
  const name = "Apollo e2e chat";
  const renamed = "Apollo e2e chat (renamed)";

  // 1. The frontend makes the id; the conversation starts ephemeral.
  const created = await client.mutate({ mutation: CREATE_SESSION, variables: { input: { id } } });
  assertSession(created.data.createSession, {
    id, name: "New Chat", saved: false, model: null, recap: null, personaId: null, messageCount: 0,
  });
  step("createSession", { id, saved: false });

  // 2. The default list (the sidebar) shows saved sessions only.
  const before = await listSessions(undefined);
  assert.ok(
    !before.edges.some((edge) => edge.node.id === id),
    "an ephemeral session must not be in the default sessions list",
  );
  assert.ok(before.edges.every((edge) => edge.node.saved === true), "the default list is saved only");
  const ephemeral = await listSessions({ saved: false });
  assert.ok(ephemeral.edges.some((edge) => edge.node.id === id), "filter saved:false lists it");
  step("sessions (default filter)", { totalCount: before.totalCount, listed: false });

  // 3. The user saves it.
  const saved = (await client.mutate({ mutation: SAVE_SESSION, variables: { id, name } })).data.saveSession;
  assertSession(saved, { id, name, saved: true });
  step("saveSession", { name, updatedAt: saved.updatedAt });

  // 4. Now the sidebar lists it, with its fields.
  const after = await listSessions(undefined);
  assert.equal(after.totalCount, before.totalCount + 1, "totalCount grows by the saved session");
  const edges = after.edges.filter((edge) => edge.node.id === id);
  assert.equal(edges.length, 1, "the saved session is listed once");
  const [edge] = edges;
  assert.equal(edge.__typename, "SessionEdge");
  assert.equal(typeof edge.cursor, "string");
  assert.ok(edge.cursor.length > 0, "a non-empty cursor");
  assertSession(edge.node, {
    id, name, saved: true, model: null, recap: null, personaId: null,
    createdAt: saved.createdAt, updatedAt: saved.updatedAt,
  });
  assert.equal(after.edges[0].node.id, id, "newest activity first: the just-saved session leads");
  step("sessions (after save)", { totalCount: after.totalCount, listed: true });

  // Put session(id) in the cache, so a cache-only read can show what later mutations did.
  const fetched = await client.query({ query: SESSION, variables: { id }, fetchPolicy: "network-only" });
  assertSession(fetched.data.session, { id, name, saved: true, updatedAt: saved.updatedAt });

  // 5. Rename with compare-and-set on updatedAt.
  const updated = (
    await client.mutate({
      mutation: UPDATE_SESSION,
      variables: { input: { id, name: renamed, expectedUpdatedAt: saved.updatedAt } },
    })
  ).data.updateSession;
  assertSession(updated, { id, name: renamed, saved: true, createdAt: saved.createdAt });
  assert.notEqual(updated.updatedAt, saved.updatedAt, "updateSession bumps updatedAt");
  assert.ok(
    Date.parse(updated.updatedAt) >= Date.parse(saved.updatedAt),
    "updatedAt does not go backwards",
  );

  // The normalized cache (Session:<id>) took the mutation's result: a cache-only read of
  // session(id) makes no request and sees the new name.
  const requestsBefore = exchanges.length;
  const cached = await client.query({ query: SESSION, variables: { id }, fetchPolicy: "cache-only" });
  assert.equal(exchanges.length, requestsBefore, "a cache-only read makes no request");
  assertSession(cached.data.session, { id, name: renamed, updatedAt: updated.updatedAt });
  assert.equal(
    client.cache.identify({ __typename: "Session", id }),
    `Session:${id}`,
    "sessions are normalized by id",
  );
  step("updateSession", {
    name: renamed,
    updatedAt: updated.updatedAt,
    cacheOnlyName: cached.data.session.name,
  });

  // 6. A write based on the stale updatedAt is refused with CONFLICT, and nothing changes.
  //    Default errorPolicy ("none"): the mutation rejects with CombinedGraphQLErrors.
  let conflict;
  await assert.rejects(
    client.mutate({
      mutation: UPDATE_SESSION,
      variables: { input: { id, name: "lost update", expectedUpdatedAt: saved.updatedAt } },
    }),
    (error) => {
      conflict = singleError(error, "CONFLICT");
      return true;
    },
  );
  assert.deepEqual(conflict.path, ["updateSession"]);
  //    errorPolicy "all": the mutation resolves with the error beside the (null) data.
  const conflictAll = await client.mutate({
    mutation: UPDATE_SESSION,
    variables: { input: { id, recap: "lost update", expectedUpdatedAt: saved.updatedAt } },
    errorPolicy: "all",
  });
  singleError(conflictAll.error, "CONFLICT");
  assert.equal(conflictAll.data ?? null, null, "no data for a refused mutation");
  const unchanged = await client.query({ query: SESSION, variables: { id }, fetchPolicy: "network-only" });
  assertSession(unchanged.data.session, {
    id, name: renamed, recap: null, updatedAt: updated.updatedAt,
  });
  step("updateSession (stale expectedUpdatedAt)", {
    code: conflict.extensions.code,
    message: conflict.message,
  });

  // 7. Delete it, evicting it from the cache as an app would.
  const deleted = await client.mutate({
    mutation: DELETE_SESSION,
    variables: { id },
    update(cache, { data }) {
      cache.evict({ id: cache.identify({ __typename: "Session", id: data.deleteSession }) });
      cache.gc();
    },
  });
  assert.equal(deleted.data.deleteSession, id);
  step("deleteSession", { id });

  // 8. It is gone: session(id) is null.
  const gone = await client.query({ query: SESSION, variables: { id }, fetchPolicy: "network-only" });
  assert.equal(gone.data.session, null, "session(id) is null after deleteSession");
  assert.equal(gone.error, undefined);
  step("session (after delete)", { session: null });

  // 9. Deleting it again is NOT_FOUND.
  const again = await client.mutate({ mutation: DELETE_SESSION, variables: { id }, errorPolicy: "all" });
  const notFound = singleError(again.error, "NOT_FOUND");
  assert.deepEqual(notFound.path, ["deleteSession"]);
  step("deleteSession (again)", { code: notFound.extensions.code, message: notFound.message });

  // 10. Live updates: subscribe to one session over WebSocket, then write to it over HTTP.
  await subscriptionSteps();

  // The wire: Apollo asked for application/graphql-response+json and got it, and every
  // answer (errors included: they carry data) was a 200.
  assert.ok(exchanges.length > 0);
  for (const exchange of exchanges) {
    assert.equal(exchange.method, "POST", JSON.stringify(exchange));
    assert.ok(exchange.accept?.includes(GRAPHQL_RESPONSE_JSON), JSON.stringify(exchange));
    assert.ok(exchange.contentType?.startsWith(GRAPHQL_RESPONSE_JSON), JSON.stringify(exchange));
    assert.equal(exchange.status, 200, JSON.stringify(exchange));
  }

  return {
    ok: true,
    apolloClient: apolloVersion,
    url,
    sessionId: id,
    requests: exchanges.length,
    contentTypes: [...new Set(exchanges.map((exchange) => exchange.contentType))],
    steps,
  };
}

/** Events of one session through Apollo's GraphQLWsLink, in order, one per committed write. */
async function subscriptionSteps() {
  const id = `e2e-live-${randomUUID()}`;
  const received = [];
  let wake = () => {};
  const subscription = client.subscribe({ query: SESSION_EVENTS, variables: { id } }).subscribe({
    next: ({ data, error }) => {
      received.push(error ? { error: error.message } : data.sessionEvents);
      wake();
    },
    error: (error) => {
      received.push({ error: `subscription ended: ${error.message}` });
      wake();
    },
  });
  const nextEvent = (timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms (${JSON.stringify(received)})`)), timeoutMs);
      const check = () => {
        if (received.length > 0) {
          clearTimeout(timer);
          wake = () => {}; // an event arriving later waits for the next nextEvent()
          const event = received.shift();
          if (event.error) reject(new Error(event.error));
          else resolve(event);
        } else wake = check;
      };
      check();
    });

  // The protocol does not acknowledge a subscribe: touch the session until its first event
  // shows the subscription is live (CREATED if it was live for the first touch, which
  // creates the session; UPDATED for a later touch).
  let first;
  for (let attempt = 0; attempt < 50 && !first; attempt += 1) {
    await client.mutate({ mutation: TOUCH_SESSION, variables: { id } });
    first = await nextEvent(200).catch(() => undefined);
  }
  assert.ok(first, "the subscription delivered no event for touchSession");
  assert.ok(["CREATED", "UPDATED"].includes(first.kind), first.kind);
  await new Promise((resolve) => setTimeout(resolve, 300));
  received.length = 0; // extra touches made while the first event was on its way

  const saved = (await client.mutate({ mutation: SAVE_SESSION, variables: { id, name: "Live chat" } })).data
    .saveSession;
  const savedEvent = await nextEvent();
  assert.deepEqual([savedEvent.kind, savedEvent.sessionId, savedEvent.session.updatedAt], ["SAVED", id, saved.updatedAt]);

  // A refused write publishes nothing: the next event is the rename's, not the stale one's.
  const stale = await client.mutate({
    mutation: UPDATE_SESSION,
    variables: { input: { id, name: "stale", expectedUpdatedAt: first.session.updatedAt } },
    errorPolicy: "all",
  });
  singleError(stale.error, "CONFLICT");
  const renamed = (
    await client.mutate({ mutation: UPDATE_SESSION, variables: { input: { id, name: "Live chat, renamed" } } })
  ).data.updateSession;
  const renamedEvent = await nextEvent();
  assert.deepEqual([renamedEvent.kind, renamedEvent.session.name], ["UPDATED", "Live chat, renamed"]);
  assert.equal(renamedEvent.session.updatedAt, renamed.updatedAt);

  await client.mutate({ mutation: APPEND_MESSAGE, variables: { input: { sessionId: id, role: "USER", text: "hi" } } });
  const messageEvent = await nextEvent();
  assert.deepEqual([messageEvent.kind, messageEvent.session.messageCount], ["UPDATED", 1]);

  // The event's session went into the normalized cache like any other result.
  const cached = await client.query({ query: SESSION, variables: { id }, fetchPolicy: "cache-only" });
  assert.equal(cached.data.session.messageCount, 1, "the cache holds the event's session");

  await client.mutate({ mutation: DELETE_SESSION, variables: { id } });
  const deletedEvent = await nextEvent();
  assert.deepEqual([deletedEvent.kind, deletedEvent.sessionId, deletedEvent.session], ["DELETED", id, null]);

  subscription.unsubscribe();
  step("sessionEvents", {
    kinds: [first, savedEvent, renamedEvent, messageEvent, deletedEvent].map((event) => event.kind),
  });
}

try {
  const summary = await main();
  console.log(JSON.stringify(summary));
  client.stop();
  await wsClient.dispose();
  process.exit(0);
} catch (error) {
  const done = steps.map((s) => s.step).join(" -> ");
  console.error(`Apollo e2e flow FAILED after ${steps.length} step(s): ${done}`);
  console.error(error?.stack ?? error);
  if (error?.errors) console.error(JSON.stringify(error.errors, null, 2));
  console.error(`HTTP exchanges: ${JSON.stringify(exchanges, null, 2)}`);
  process.exit(1);
}
