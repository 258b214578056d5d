import { defineSearchAttributeKey } from '@temporalio/common';

/** Cutover's custom search attributes: registered on the dev server and kept current by the deployment workflow. */
export const environmentKey = defineSearchAttributeKey('CutoverEnvironment', 'KEYWORD');
export const phaseKey = defineSearchAttributeKey('CutoverPhase', 'KEYWORD');
export const packageVersionKey = defineSearchAttributeKey('CutoverPackageVersion', 'KEYWORD');
export const modeKey = defineSearchAttributeKey('CutoverMode', 'KEYWORD');

export const cutoverSearchAttributes = [environmentKey, phaseKey, packageVersionKey, modeKey];
