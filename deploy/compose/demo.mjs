/**
 * The demo of `docker compose up` (on the image's compiled build; see bin/cutover-modules.js): once the API and the
 * worker are healthy, deploys demo-app v1 and then v2 (up to awaiting verification) to the demo environment on SQL Server,
 * exactly as `npm run demo` does on a developer machine.
 */
import { importCutover } from '../../bin/cutover-modules.js';

const { loadConfig } = await importCutover('config/load');
const { runDemo } = await importCutover('stack/demo');

const config = loadConfig();
const apiUrl = `http://127.0.0.1:${config.api.port}`;

runDemo({ apiUrl, config, temporalUi: `http://localhost:${config.temporal.uiPort}` }).then(
  () => process.exit(0),
  (error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
