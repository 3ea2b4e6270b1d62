// A single-page app: no server rendering, no prerendering; the API server serves the
// fallback index.html for every route and the browser does the rest.
export const ssr = false;
export const prerender = false;
