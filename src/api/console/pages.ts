/** The console's server-rendered pages: the frame, login, environments, one environment, one deployment. */
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ApprovalPolicy } from '../../approvals/policy.js';
import type { Principal } from '../auth.js';
import { CONSOLE_PATH } from './session.js';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export const assetPaths = { script: `${CONSOLE_PATH}/assets/console.js`, style: `${CONSOLE_PATH}/assets/console.css` } as const;

function frame(title: string, principal: Principal | null, body: Html, showLogout: boolean): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · Cutover</title>
        <link rel="stylesheet" href="${assetPaths.style}" />
        <script src="${assetPaths.script}" defer></script>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="${CONSOLE_PATH}">Cutover</a>
          ${principal ? html`<span class="who" data-testid="who">${principal.name} · ${principal.roles.join(', ')}</span>` : ''}
          ${
            showLogout
              ? html`<form method="post" action="${CONSOLE_PATH}/logout" class="logout"><button type="submit">Log out</button></form>`
              : ''
          }
        </header>
        <main>${body}</main>
      </body>
    </html>`;
}

export function loginPage(error: string | null): Html {
  return frame(
    'Log in',
    null,
    html`<h1>Log in</h1>
      <p>Paste a Cutover API token (one of <code>auth.tokens</code>). The console keeps a session cookie, never the token.</p>
      ${error ? html`<p class="refusal" role="alert">${error}</p>` : ''}
      <form method="post" action="${CONSOLE_PATH}/login" class="login">
        <label for="token">Token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required maxlength="4096" />
        <button type="submit">Log in</button>
      </form>`,
    false,
  );
}

/** An environment's state, which the console script fills in (live version, maintenance, running deployment); `more` adds rows. */
function environmentState(more: Html | '' = ''): Html {
  return html`<dl>
    <dt>Live version</dt>
    <dd data-field="live">…</dd>
    <dt>Maintenance</dt>
    <dd data-field="maintenance">…</dd>
    <dt>Running deployment</dt>
    <dd data-field="running">…</dd>
    ${more}
  </dl>`;
}

/** A table whose rows the console script fills into the tbody named `field`; `loading` shows "…" until then. */
function listTable(field: string, columns: string[], options: { loading?: boolean } = {}): Html {
  const loading = html`<tr>
    <td colspan="${columns.length}">…</td>
  </tr>`;
  return html`<div class="scroll">
    <table class="list">
      <thead>
        <tr>
          ${columns.map((column) => html`<th>${column}</th>`)}
        </tr>
      </thead>
      <tbody data-field="${field}">
        ${options.loading ? loading : ''}
      </tbody>
    </table>
  </div>`;
}

export function environmentsPage(principal: Principal, names: string[], withLogout: boolean): Html {
  return frame(
    'Environments',
    principal,
    html`<h1>Environments</h1>
      ${names.length === 0 ? html`<p>This token sees no environment.</p>` : ''}
      <div class="cards">
        ${names.map(
          (name) =>
            html`<section class="card" data-environment="${name}">
              <h2><a href="${CONSOLE_PATH}/environments/${name}">${name}</a></h2>
              ${environmentState()}
            </section>`,
        )}
      </div>`,
    withLogout,
  );
}

const policyText = (policy: ApprovalPolicy) =>
  [
    policy.required === 1 ? 'one approval' : `${policy.required} distinct approvals`,
    policy.approvers ? `by ${policy.approvers.join(', ')}` : 'by any approver',
    policy.allowSelfApproval ? 'self-approval allowed' : 'no self-approval',
  ].join(', ');

export function environmentPage(principal: Principal, name: string, policy: ApprovalPolicy, withLogout: boolean): Html {
  return frame(
    name,
    principal,
    html`<p class="crumbs"><a href="${CONSOLE_PATH}">Environments</a> / ${name}</p>
      <h1>${name}</h1>
      <section class="card" data-environment="${name}" data-page="environment">
        ${environmentState(
          html`<dt>Approval</dt>
            <dd>${policyText(policy)}</dd>`,
        )}
      </section>
      <h2>Deployments</h2>
      ${listTable('deployments', ['Deployment', 'Version', 'Phase', 'Started'], { loading: true })}`,
    withLogout,
  );
}

export interface DeploymentPageInput {
  principal: Principal;
  deploymentId: string;
  environment: string;
  policy: ApprovalPolicy;
  mayComplete: boolean;
  mayReset: boolean;
  withLogout: boolean;
}

function decisionButton(action: string, label: string, allowed: boolean, role: string): Html {
  const lacking = `your token lacks the role ${role}`;
  return allowed
    ? html`<button type="button" data-action="${action}">${label}</button>`
    : html`<button type="button" data-action="${action}" disabled title="${lacking}">${label}</button>`;
}

export function deploymentPage(input: DeploymentPageInput): Html {
  const { deploymentId, environment } = input;
  return frame(
    deploymentId,
    input.principal,
    html`<p class="crumbs">
        <a href="${CONSOLE_PATH}">Environments</a> / <a href="${CONSOLE_PATH}/environments/${environment}">${environment}</a> / deployment
      </p>
      <div data-page="deployment" data-deployment="${deploymentId}">
        <h1 class="id">${deploymentId}</h1>
        <p class="summary"><span class="phase" data-field="phase">…</span> <span data-field="package"></span></p>
        <section class="decide">
          <h2>Decide</h2>
          <p data-field="available" class="muted"></p>
          <div class="buttons">
            ${decisionButton('complete', 'Complete', input.mayComplete, 'approver')}
            ${decisionButton('reset-code', 'Reset (code only)', input.mayReset, 'deployer or approver')}
            ${decisionButton('reset-database', 'Reset (code and database)', input.mayReset, 'deployer or approver')}
          </div>
          <p data-field="message" role="status" aria-live="polite"></p>
          <p class="muted">Approval policy: ${policyText(input.policy)}.</p>
        </section>
        <section class="failure" data-field="failure" hidden>
          <h2>Failure</h2>
          <p data-field="failure-message"></p>
          <p><strong>What to do:</strong> <span data-field="remediation"></span></p>
        </section>
        <section class="analysis" data-field="analysis" hidden>
          <h2>Analysis</h2>
          <p data-field="analysis-summary"></p>
          <ul data-field="analysis-evidence"></ul>
        </section>
        <section>
          <h2>Audit trail</h2>
          <ul data-field="audit" class="audit"></ul>
        </section>
        <section>
          <h2>Sites</h2>
          ${listTable('sites', ['Site', 'Role', 'State', 'Serving', 'Preview', 'Replicas'])}
        </section>
        <section>
          <h2>Timeline</h2>
          <ol data-field="timeline" class="timeline"></ol>
        </section>
        <section>
          <h2>Log</h2>
          <pre data-field="log" class="log"></pre>
        </section>
      </div>`,
    input.withLogout,
  );
}

export function notFoundPage(principal: Principal, what: string, withLogout: boolean): Html {
  return frame(
    'Not found',
    principal,
    html`<h1>Not found</h1>
      <p>${what}</p>
      <p><a href="${CONSOLE_PATH}">Environments</a></p>`,
    withLogout,
  );
}
