import { api, fill, fmt, h, runLink, serverInfo, table } from './dom.js';

// Registered models; one model's versions (lineage, metrics, aliases), the history of alias moves,
// and, with --allow-writes, promote (behind the gates, confirmed with their results) and rollback.

export async function modelsPage(view) {
  const { models } = await api('/api/models');
  fill(view, h('h1', {}, 'Models'), models.length === 0 ? h('p', { class: 'muted' }, 'no registered models') :
    table(['name', 'latest', 'aliases', 'description'], models.map((m) => [
      h('a', { href: `#/models/${encodeURIComponent(m.name)}` }, m.name), m.latest_version === null ? '-' : `v${m.latest_version}`,
      Object.entries(m.aliases).map(([a, v]) => `${a}=v${v}`).join(', ') || '-', m.description ?? '']), () => ({ class: 'model' })));
}

const gateRows = (report) => report.checks.map((c) => [c.gate, c.value, c.limit, c.passed ? 'pass' : 'FAIL']);

export async function modelPage(view, { arg: name }) {
  const [{ model, versions, history }, info] = await Promise.all([api(`/api/models/${encodeURIComponent(name)}`), serverInfo()]);
  const metricKeys = [...new Set(versions.flatMap((v) => Object.keys(v.metrics)))].sort();
  const message = h('div', { role: 'status', class: 'outcome' });
  const dialog = h('dialog', { class: 'confirm' });
  const reload = () => modelPage(view, { arg: name });

  async function promote(version, alias) {
    fill(message, `checking the gates for v${version} -> ${alias}…`);
    try {
      const dry = await api(`/api/models/${encodeURIComponent(name)}/promote`, { method: 'POST', body: { version: String(version), alias, dry_run: true } });
      fill(message);
      if (dry.kind === 'noop') return fill(message, `${alias} already points at v${version}`);
      const passed = !dry.report || dry.report.passed;
      fill(dialog,
        h('h2', {}, `Promote ${name} v${version} to ${alias}?`),
        h('p', {}, `${alias}: ${dry.from === null ? 'unset' : `v${dry.from}`} -> v${version}`),
        dry.report && dry.report.checks.length ? table(['gate', 'value', 'limit', 'result'], gateRows(dry.report)) : h('p', {}, 'no gates configured (params.yaml registry:)'),
        h('p', { class: passed ? '' : 'error' }, passed ? 'every gate passes' : 'a gate fails: the promotion would be refused'),
        h('div', { class: 'toolbar' },
          h('button', { class: 'confirm-promote', disabled: !passed, onclick: async () => {
            dialog.close();
            try {
              const done = await api(`/api/models/${encodeURIComponent(name)}/promote`, { method: 'POST', body: { version: String(version), alias } });
              await reload();
              fill(view.querySelector('.outcome'), done.kind === 'moved' ? `promoted ${name} ${alias}: v${done.from ?? '-'} -> v${done.version}` : `refused: a gate failed`);
            } catch (e) {
              fill(message, h('span', { class: 'error' }, e.message));
            }
          } }, 'Promote'),
          h('button', { onclick: () => dialog.close() }, 'Cancel')));
      dialog.showModal();
    } catch (e) {
      fill(message, h('span', { class: 'error' }, e.message));
    }
  }

  async function rollback(alias) {
    if (!confirm(`Roll ${name} ${alias} back to the version that held it before?`)) return;
    try {
      const done = await api(`/api/models/${encodeURIComponent(name)}/rollback`, { method: 'POST', body: { alias } });
      await reload();
      fill(view.querySelector('.outcome'), `rolled back ${name} ${alias}: v${done.from} -> v${done.to}`);
    } catch (e) {
      fill(message, h('span', { class: 'error' }, e.message));
    }
  }

  const aliasInput = h('input', { type: 'text', name: 'alias', value: 'champion', size: 12, 'aria-label': 'alias' });
  fill(view,
    h('h1', {}, name), model.description ? h('p', {}, model.description) : null,
    h('p', {}, 'aliases: ', Object.entries(model.aliases).map(([a, v]) => h('span', { class: 'chip' }, `${a} → v${v}`)),
      info.allow_writes ? Object.keys(model.aliases).map((a) => h('button', { class: 'rollback', 'data-alias': a, onclick: () => rollback(a) }, `Roll back ${a}`)) : null),
    info.allow_writes ? h('div', { class: 'toolbar' }, 'promote to alias', aliasInput) : h('p', { class: 'muted' }, 'read-only: start `mlops ui --allow-writes` to promote or roll back'),
    message, dialog,
    h('h2', {}, 'Versions'),
    h('div', { class: 'scroll' }, table(['version', 'aliases', ...metricKeys, 'run', 'git', 'train data', 'registered', ...(info.allow_writes ? [''] : [])],
      versions.slice().reverse().map((v) => [`v${v.version}`, v.aliases.join(', ') || '-', ...metricKeys.map((k) => v.metrics[k] ?? '-'),
        v.run_id ? runLink(v.run_id) : '-', v.lineage.git_commit ? `${v.lineage.git_commit.slice(0, 7)}${v.lineage.git_dirty ? '+dirty' : ''}` : '-',
        v.lineage.train_data ? `${v.lineage.train_data.path} (${v.lineage.train_data.md5.slice(0, 8)})` : '-', new Date(v.creation_timestamp).toISOString().slice(0, 19).replace('T', ' '),
        ...(info.allow_writes ? [h('td', {}, h('button', { class: 'promote', 'data-version': v.version, onclick: () => promote(v.version, aliasInput.value) }, 'Promote…'))] : [])]),
      (i) => ({ 'data-version': versions[versions.length - 1 - i].version }))),
    h('h2', {}, 'History'),
    table(['time', 'action', 'alias', 'from', 'to', 'user', 'reason'], history.slice().reverse().map((e) => [e.time, e.action, e.alias, e.from === null ? '-' : `v${e.from}`, e.to === null ? '-' : `v${e.to}`, e.user, e.reason]), () => ({ class: 'event' })));
}
