/**
 * The console's one client script, served by the API (no framework, no CDN): it reads the API under /console/v1 with
 * the session cookie, follows the log as server-sent events, and sends Complete and Reset. It writes text, never HTML.
 */
export const consoleScript = String.raw`'use strict';
(function () {
  var base = '/console';
  var api = base + '/v1';

  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function field(root, name) { return root.querySelector('[data-field="' + name + '"]'); }
  function link(href, text) { return el('a', text, { href: href }); }
  function replace(node, children) {
    while (node.firstChild) node.removeChild(node.firstChild);
    children.forEach(function (c) { node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  }
  function when(iso) { return iso ? new Date(iso).toLocaleString() : ''; }
  function duration(from, to) {
    var ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
    var s = Math.max(0, Math.round(ms / 1000));
    return s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  }

  function getJson(path) {
    return fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' }).then(function (r) {
      if (r.status === 401) { location.href = base + '/login'; throw new Error('logged out'); }
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    });
  }
  function refusal(answer) {
    return answer.body && answer.body.error ? answer.body.error.message : 'the API answered ' + answer.status;
  }

  function environmentCard(card) {
    var name = card.getAttribute('data-environment');
    getJson(api + '/environments/' + encodeURIComponent(name)).then(function (a) {
      if (a.status !== 200) { replace(field(card, 'live'), [refusal(a)]); return; }
      var env = a.body;
      replace(field(card, 'live'), [env.livePackage ? env.livePackage.version : 'nothing deployed']);
      replace(field(card, 'maintenance'), [env.inMaintenance ? 'in maintenance' : 'not in maintenance']);
      var running = env.runningDeployment;
      replace(field(card, 'running'), [running ? link(base + '/deployments/' + running, running) : 'none']);
      field(card, 'maintenance').className = env.inMaintenance ? 'warn' : '';
    }).catch(function () {});
  }

  function deploymentList(body, name) {
    getJson(api + '/deployments?environment=' + encodeURIComponent(name) + '&pageSize=20').then(function (a) {
      if (a.status !== 200) { replace(body, [el('tr', refusal(a))]); return; }
      var rows = a.body.deployments.map(function (d) {
        var tr = el('tr');
        var cell = el('td'); cell.appendChild(link(base + '/deployments/' + d.deploymentId, d.deploymentId)); tr.appendChild(cell);
        tr.appendChild(el('td', d.packageVersion || ''));
        tr.appendChild(el('td', d.phase || d.execution || ''));
        tr.appendChild(el('td', when(d.startedAt)));
        return tr;
      });
      replace(body, rows.length ? rows : [el('tr', 'No deployment yet.')]);
    }).catch(function () {});
  }

  function requestStats(s) {
    return s.requests + ' requests, ' + s.failures + ' failed (' + Math.round(s.errorRate * 1000) / 10 + '%), ' +
      (s.p99Ms === null ? 'no answer' : 'p99 ' + s.p99Ms + ' ms');
  }

  function renderDeployment(root, d) {
    var phase = field(root, 'phase');
    phase.textContent = d.phase;
    phase.className = 'phase phase-' + d.phase;
    var previous = d.previousPackage ? ' (previous: ' + d.previousPackage.version + ')' : '';
    field(root, 'package').textContent = d.package.name + ' ' + d.package.version + previous + ' · mode ' + d.mode +
      (d.startedBy ? ' · started by ' + d.startedBy : '') + ' · ' + when(d.startedAt);
    var names = { complete: 'Complete', reset: 'Reset' };
    field(root, 'available').textContent = d.actions.length
      ? 'Available now: ' + d.actions.map(function (a) { return names[a]; }).join(', ') + '.'
      : 'No decision is available while the deployment is ' + d.phase + '.';

    var failure = field(root, 'failure');
    failure.hidden = !d.failure;
    if (d.failure) {
      field(root, 'failure-message').textContent = d.failure.class + ': ' + d.failure.message;
      field(root, 'remediation').textContent = d.failure.remediation;
    }

    // The analysis' evidence: the preview's figures next to the live version's.
    var analysis = field(root, 'analysis');
    analysis.hidden = !d.analysis;
    if (d.analysis) {
      var state = d.analysis.state === 'finished' ? d.analysis.verdict : d.analysis.state;
      field(root, 'analysis-summary').textContent = state + ': ' + d.analysis.summary;
      replace(field(root, 'analysis-evidence'), d.analysis.checks.map(function (c) {
        return el('li', c.site + ' GET ' + c.path + ': ' + c.verdict + ' · preview ' + requestStats(c) +
          (c.live ? ' · live ' + requestStats(c.live) : ''));
      }).concat(d.analysis.metrics.map(function (m) { return el('li', 'metric ' + m.name + ': ' + m.verdict + ' · ' + m.reason); })));
    }

    var audit = [];
    var approvals = d.approvals || { required: 1, received: [] };
    approvals.received.forEach(function (a, i) {
      audit.push(el('li', when(a.at) + ' · approval ' + (i + 1) + ' of ' + approvals.required + ' by ' + a.by));
    });
    if (d.decision) {
      var what = d.decision.action === 'complete' ? 'Complete'
        : d.decision.rollbackDatabase ? 'Reset (code and database)' : 'Reset (code only)';
      audit.push(el('li', (d.decision.at ? when(d.decision.at) + ' · ' : '') + what + ' decided' +
        (d.decision.requestedBy ? ' by ' + d.decision.requestedBy : '') + (d.decision.reason ? ': ' + d.decision.reason : '')));
    }
    replace(field(root, 'audit'), audit.length ? audit : [el('li', 'No decision yet.')]);

    var previews = (d.links && d.links.previews) || {};
    replace(field(root, 'sites'), d.sites.map(function (s) {
      var tr = el('tr');
      tr.appendChild(el('td', s.name));
      tr.appendChild(el('td', s.role));
      tr.appendChild(el('td', s.state + (s.error ? ': ' + s.error : '')));
      tr.appendChild(el('td', s.serving || ''));
      var cell = el('td');
      if (s.previewSlot && previews[s.name]) cell.appendChild(link(previews[s.name], previews[s.name]));
      tr.appendChild(cell);
      tr.appendChild(replicaCell(s.replicas || []));
      return tr;
    }));

    replace(field(root, 'timeline'), d.timings.map(function (t) {
      var li = el('li');
      li.appendChild(el('span', t.phase, { class: 'step' }));
      li.appendChild(el('span', duration(t.startedAt, t.endedAt) + (t.endedAt ? '' : ' (running)'), { class: 'took' }));
      return li;
    }));
  }

  // One line per slot still running somewhere: each host's copy and its state (slots stopped everywhere are left out).
  function replicaCell(replicas) {
    var slots = [];
    replicas.forEach(function (r) {
      var slot = slots.filter(function (x) { return x.id === r.slotId; })[0];
      if (!slot) { slot = { id: r.slotId, copies: [] }; slots.push(slot); }
      slot.copies.push(r);
    });
    var list = el('ul', null, { class: 'replicas' });
    slots.forEach(function (slot) {
      if (slot.copies.every(function (r) { return r.state === 'stopped'; })) return;
      list.appendChild(el('li', slot.id + ': ' + slot.copies.map(function (r) { return r.host + ' ' + r.state; }).join(' · ')));
    });
    var cell = el('td');
    cell.appendChild(list);
    return cell;
  }

  function deploymentPage(root) {
    var id = root.getAttribute('data-deployment');
    var path = api + '/deployments/' + encodeURIComponent(id);
    var over = false;
    function refresh() {
      getJson(path).then(function (a) {
        if (a.status === 200) {
          renderDeployment(root, a.body);
          over = a.body.phase === 'completed' || a.body.phase === 'reset' || a.body.phase === 'rolled-back' ||
            (a.body.phase === 'failed' && a.body.actions.length === 0);
        } else field(root, 'message').textContent = refusal(a);
      }).catch(function () {}).then(function () { if (!over) setTimeout(refresh, 1000); });
    }
    refresh();

    var log = field(root, 'log');
    var source = new EventSource(path + '/log?follow=true');
    source.addEventListener('line', function (e) {
      var line = JSON.parse(e.data);
      var row = el('span', line.at + ' ' + line.level.toUpperCase() + ' ' + line.message + '\n', { class: 'level-' + line.level });
      log.appendChild(row);
    });
    source.addEventListener('end', function () { source.close(); refresh(); });
    source.addEventListener('error', function (e) {
      if (e.data) log.appendChild(el('span', JSON.parse(e.data).error.message + '\n', { class: 'level-error' }));
      source.close();
    });

    var requests = {
      'complete': { path: '/complete', body: {}, ask: 'Complete: public traffic moves to the new version.' },
      'reset-code': { path: '/reset', body: { rollbackDatabase: false }, ask: 'Reset: the previous code goes back; the database stays.' },
      'reset-database': { path: '/reset', body: { rollbackDatabase: true }, ask: 'Reset: the previous code and database go back.' },
    };
    Array.prototype.forEach.call(root.querySelectorAll('button[data-action]'), function (button) {
      button.addEventListener('click', function () {
        var request = requests[button.getAttribute('data-action')];
        if (!window.confirm(request.ask)) return;
        var message = field(root, 'message');
        message.className = '';
        message.textContent = 'Sending…';
        fetch(path + request.path, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(request.body),
        }).then(function (r) {
          return r.json().then(function (body) {
            var answer = { status: r.status, body: body };
            if (r.ok) {
              message.className = 'accepted';
              message.textContent = body.decision ? 'Accepted: ' + button.textContent + '; the deployment carries it out now.'
                : 'Approval recorded (' + body.approvals.received.length + ' of ' + body.approvals.required + ')' +
                  ': more approvers must Complete.';
              renderDeployment(root, body);
              over = false;
              refresh();
            } else {
              message.className = 'refusal';
              message.textContent = 'Refused: ' + refusal(answer);
            }
          });
        }).catch(function (e) { message.className = 'refusal'; message.textContent = 'Not sent: ' + e.message; });
      });
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    Array.prototype.forEach.call(document.querySelectorAll('[data-environment]'), function (card) {
      environmentCard(card);
      setInterval(function () { environmentCard(card); }, 3000);
    });
    var envPage = document.querySelector('[data-page="environment"]');
    var list = document.querySelector('[data-field="deployments"]');
    if (envPage && list) {
      deploymentList(list, envPage.getAttribute('data-environment'));
      setInterval(function () { deploymentList(list, envPage.getAttribute('data-environment')); }, 3000);
    }
    var deployment = document.querySelector('[data-page="deployment"]');
    if (deployment) deploymentPage(deployment);
  });
})();
`;

export const consoleStyle = `
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d232a;background:#f4f6f8}
a{color:#0b5cad}
.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.6rem 1rem;background:#16324f;color:#fff}
.top .brand{color:#fff;font-weight:700;text-decoration:none;font-size:1.1rem}
.top .who{margin-left:auto;font-size:.9rem;opacity:.9}
.top .logout{margin:0}
main{max-width:1100px;margin:0 auto;padding:1rem}
h1{font-size:1.4rem;margin:.3rem 0 .8rem;overflow-wrap:anywhere}
h2{font-size:1.05rem;margin:0 0 .5rem}
section{background:#fff;border:1px solid #dde3e9;border-radius:8px;padding:.8rem 1rem;margin:0 0 1rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dt{color:#5a6570}dd{margin:0;overflow-wrap:anywhere}
.warn{color:#a15c00;font-weight:600}
.crumbs{margin:0;color:#5a6570;font-size:.9rem}
.summary{margin:0 0 1rem;overflow-wrap:anywhere}
.phase{display:inline-block;padding:.1rem .55rem;border-radius:999px;background:#e4e9ef;font-weight:600}
.phase-awaiting-verification{background:#fff1c2}.phase-completed{background:#d4f3dd}.phase-reset{background:#e2e6fb}
.phase-failed{background:#fbd9d9}
.buttons{display:flex;flex-wrap:wrap;gap:.5rem}
button{font:inherit;padding:.5rem .9rem;border-radius:6px;border:1px solid #16324f;background:#16324f;color:#fff;cursor:pointer}
button[data-action^="reset"]{background:#fff;color:#16324f}
button:disabled{opacity:.45;cursor:not-allowed}
.top button{padding:.25rem .6rem;background:transparent;border-color:#fff}
.refusal{color:#a11d1d;font-weight:600}.accepted{color:#1c6b35;font-weight:600}
.muted{color:#5a6570}
.scroll{overflow-x:auto}
table.list{border-collapse:collapse;width:100%}
.scroll table.list{min-width:560px}
table.list th,table.list td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eef1f4}
table.list th{white-space:nowrap}
.timeline{margin:0;padding-left:1.2rem}.timeline li{display:flex;justify-content:space-between;gap:1rem;max-width:420px}
.audit{margin:0;padding-left:1.2rem}
.replicas{margin:0;padding-left:1rem;font-size:.85rem;overflow-wrap:anywhere}
.log{background:#10161d;color:#d7e0ea;padding:.7rem;border-radius:6px;max-height:420px;overflow:auto;white-space:pre-wrap;
  overflow-wrap:anywhere;font-size:.82rem;margin:0}
.log .level-warn{color:#ffd479}.log .level-error{color:#ff9c9c}
form.login{display:flex;flex-direction:column;gap:.5rem;max-width:420px}
input{font:inherit;padding:.5rem;border:1px solid #b8c2cc;border-radius:6px}
code{background:#e9edf1;padding:0 .25rem;border-radius:4px}
`;
