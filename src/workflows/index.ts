// The workflows the worker bundles.
export { deploymentWorkflow } from './deployment.js';
export { environmentWorkflow } from './environment.js';
