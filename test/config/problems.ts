/** The problems a config is refused for, as "path: message", so config tests compare what the user reads. */
import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

/** Parses `yaml`, which must be refused with a ConfigError; fails the test if it is accepted. */
export function configProblems(yaml: string): string[] {
  try {
    parseConfig(yaml, '/etc/cutover.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('the config was accepted');
}
