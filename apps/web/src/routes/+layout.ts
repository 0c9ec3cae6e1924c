// The console is a client-only SPA: the hub serves build/index.html for every unknown path,
// and the app renders in the browser against the hub's API on the same origin.
export const ssr = false;
export const prerender = false;
