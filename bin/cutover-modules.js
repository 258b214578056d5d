// How plain JavaScript entry points (the `cutover` command, the compose healthcheck and demo) load Cutover's modules:
// in a checkout, the TypeScript sources through tsx; where Cutover is installed without its development tools
// (the Docker image), the compiled build in dist/ (npm run build).
const fromSources = (() => {
  try {
    import.meta.resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
})();

if (fromSources) {
  const { register } = await import('tsx/esm/api');
  register();
}

/** Imports a module of Cutover named by its source path under src/, e.g. 'cli/main'. */
export function importCutover(modulePath) {
  const url = fromSources ? new URL(`../src/${modulePath}.ts`, import.meta.url) : new URL(`../dist/src/${modulePath}.js`, import.meta.url);
  return import(url.href);
}
