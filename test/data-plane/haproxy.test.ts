import { dataPlaneContract } from './contract.js';
import { startHaproxy } from './support.js';

dataPlaneContract('HAProxy', startHaproxy, { maxFailedRequestsDuringSwitches: 0 });
