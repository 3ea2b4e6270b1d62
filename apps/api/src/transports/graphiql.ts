/**
 * GraphiQL served entirely by this server (Yoga's `renderGraphiQL` option): the page inlines
 * GraphiQL's script, styles and editor workers from @graphql-yoga/render-graphiql, so it works
 * on a machine without internet access. Yoga's default page loads them from a CDN.
 *
 * The page is the package's own template plus one addition: graphql-ws authenticates at
 * `connection_init`, and Yoga's GraphiQL sends the headers editor's headers only with HTTP
 * requests and inside each WebSocket operation. The page therefore hands the headers editor's
 * `Authorization` header to graphql-ws as `connectionParams`, so subscriptions run with the
 * token typed there, like queries and mutations.
 */
import { createRequire } from 'node:module';
import type { GraphiQLOptions } from 'graphql-yoga';

export type GraphiqlRenderer = (opts: GraphiQLOptions) => Uint8Array<ArrayBuffer>;

/** JSON safe to embed in an inline script (no `</script>` or `<!--` can appear). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Runs in the browser. Keeps the headers editor's text (GraphiQL calls onEditHeaders on every
 * change, including tab switches; before the first change the persisted headers apply) and
 * returns its Authorization header as graphql-ws connection parameters, read on each connect.
 */
const TOKEN_BRIDGE = `
  var editedHeaders = null;
  function currentHeaders() {
    if (editedHeaders !== null) return editedHeaders;
    try { return window.localStorage.getItem('graphiql:headers') || ''; } catch (e) { return ''; }
  }
  function connectionParams() {
    var parsed;
    try { parsed = JSON.parse(currentHeaders() || '{}'); } catch (e) { return {}; }
    if (!parsed || typeof parsed !== 'object') return {};
    for (var key in parsed) {
      if (key.toLowerCase() === 'authorization' && typeof parsed[key] === 'string') return { authorization: parsed[key] };
    }
    return {};
  }
  function onEditHeaders(text) { editedHeaders = text; }
`;

type Assets = typeof import('@graphql-yoga/render-graphiql/graphiql');

/**
 * The assets (about 9 MB of text), loaded on the first request only and then dropped from the
 * module cache: once the page is built they are garbage, not a second copy kept for good.
 */
function loadAssets(): Assets {
  const require = createRequire(import.meta.url);
  const id = require.resolve('@graphql-yoga/render-graphiql/graphiql');
  try {
    return require(id) as Assets;
  } finally {
    delete require.cache[id];
  }
}

function renderPage(opts: GraphiQLOptions): string {
  const assets = loadAssets();
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(opts.title ?? 'GraphiQL')}</title>
    <link rel="icon" href="${escapeHtml(opts.favicon ?? assets.favicon)}" />
    <style>
      ${assets.css}
    </style>
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>You need to enable JavaScript to run GraphiQL.</noscript>
    <div id="root"></div>
    <script>
      function prepareBlob(workerContent) {
        return URL.createObjectURL(new Blob([workerContent], { type: 'application/javascript' }));
      }
      const workers = {
        editorWorkerService: prepareBlob(${scriptJson(assets.editorWorkerService)}),
        json: prepareBlob(${scriptJson(assets.jsonWorker)}),
        graphql: prepareBlob(${scriptJson(assets.graphqlWorker)}),
      };
      self['MonacoEnvironment'] = {
        globalAPI: false,
        getWorkerUrl: function (moduleId, label) {
          return workers[label];
        },
      };
      ${assets.js};
      (function () {
        ${TOKEN_BRIDGE}
        var options = ${scriptJson(opts)};
        options.onEditHeaders = onEditHeaders;
        options.connectionParams = connectionParams;
        YogaGraphiQL.renderYogaGraphiQL(window.document.querySelector('#root'), options);
      })();
    </script>
  </body>
</html>
`;
}

/**
 * A renderer for Yoga's `renderGraphiQL` option. The options are the same on every request, so
 * the page is built once and kept as UTF-8 bytes.
 */
export function createGraphiqlRenderer(): GraphiqlRenderer {
  const pages = new Map<string, Uint8Array<ArrayBuffer>>();
  return (opts) => {
    const key = JSON.stringify(opts);
    let page = pages.get(key);
    if (!page) {
      page = new TextEncoder().encode(renderPage(opts));
      pages.set(key, page);
    }
    return page;
  };
}
