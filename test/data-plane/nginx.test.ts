import { dataPlaneContract } from './contract.js';
import { startNginx } from './support.js';

// A reload closes the idle kept-alive client connections: a request sent on one at that moment fails ("socket hang
// up"), at most once per client connection and reload, so at most 8 readers x 10 switches. Measured: 40-60.
dataPlaneContract('nginx', startNginx(), { maxFailedRequestsDuringSwitches: 80 });

// Without client keep-alive there is no idle connection to close, and a reload loses nothing.
dataPlaneContract('nginx without client keep-alive', startNginx({ clientKeepAliveSeconds: 0 }), { maxFailedRequestsDuringSwitches: 0 });
