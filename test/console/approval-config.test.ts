/** The `approval` section of an environment: its defaults, and errors that name the field. */
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configProblems } from '../config/problems.js';

const withApproval = (approval: string) => `
environments:
  prod:
    router: { adminPort: 7400 }
${approval ? `    approval: ${approval}\n` : ''}    sites:
      - { name: web, role: zdd, publicPort: 8080, previewPort: 8081 }
`;

describe('approval policy configuration', () => {
  test('absent: any approver, self-approval allowed, one approval', () => {
    const config = parseConfig(withApproval(''), '/etc/cutover.yaml');
    expect(config.environments.prod!.approval).toEqual({ allowSelfApproval: true, required: 1 });
  });

  test('given: approvers, no self-approval, two approvals', () => {
    const yaml = withApproval('{ approvers: [alice, U0123ABCD], allowSelfApproval: false, required: 2 }');
    const config = parseConfig(yaml, '/etc/cutover.yaml');
    expect(config.environments.prod!.approval).toEqual({ approvers: ['alice', 'U0123ABCD'], allowSelfApproval: false, required: 2 });
  });

  test('wrong values name the field', () => {
    expect(configProblems(withApproval('{ required: 0 }'))).toEqual(['environments.prod.approval.required: must be at least 1']);
    expect(configProblems(withApproval('{ required: 1.5 }'))).toEqual(['environments.prod.approval.required: must be a whole number']);
    expect(configProblems(withApproval('{ allowSelfApproval: "no" }'))).toEqual([
      'environments.prod.approval.allowSelfApproval: must be true or false, got string "no"',
    ]);
    expect(configProblems(withApproval('{ approvers: [] }'))).toEqual([
      'environments.prod.approval.approvers: must name at least one approver',
    ]);
    expect(configProblems(withApproval('{ quorum: 2 }'))).toHaveLength(1);
  });
});
