// GraphiQL for the Kalito Sessions API, with the explorer plugin, served by web/graphiql.py.
// A file rather than an inline script, so that the page's Content-Security-Policy can forbid
// inline scripts. The query and variables follow the URL (?q=...&variables=...), so a
// link to the page can carry them: `q`, because a GET with `query` is run as an operation.
"use strict";

const DEFAULT_QUERY = `# Kalito Sessions API
#
# Run with Ctrl-Enter or the run button.
# The bar on the left has the docs and
# an explorer that builds a query by
# clicking.
#
# The ten most recent saved sessions:
{
  sessions(first: 10) {
    totalCount
    edges {
      node {
        id
        name
        updatedAt
      }
    }
  }
}
`;

const parameters = new URLSearchParams(window.location.search);

function updateURL(name, value) {
  if (value) {
    parameters.set(name, value);
  } else {
    parameters.delete(name);
  }
  const search = parameters.toString();
  history.replaceState(null, "", search ? `?${search}` : window.location.pathname);
}

const endpoint = new URL(window.location.pathname, window.location.href);
const subscriptionEndpoint = new URL(endpoint);
subscriptionEndpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";

const fetcher = GraphiQL.createFetcher({
  url: endpoint.href,
  subscriptionUrl: subscriptionEndpoint.href,
});
const explorer = GraphiQLPluginExplorer.explorerPlugin();

function KalitoGraphiQL() {
  return React.createElement(GraphiQL, {
    fetcher,
    plugins: [explorer],
    defaultQuery: DEFAULT_QUERY,
    query: parameters.get("q") || undefined,
    variables: parameters.get("variables") || undefined,
    onEditQuery: (query) => updateURL("q", query),
    onEditVariables: (variables) => updateURL("variables", variables),
    defaultEditorToolsVisibility: true,
    isHeadersEditorEnabled: true,
    // Headers (an Authorization token) stay in this tab, not in localStorage.
    shouldPersistHeaders: false,
    inputValueDeprecation: true,
  });
}

ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(KalitoGraphiQL));
