// TCP-DuckDB admin page. Every value from the server reaches the page through
// textContent or an attribute set by the DOM, never parsed as markup, so a
// name or a query result can never become markup (docs/admin.md).
'use strict';

const state = { me: null, page: 'overview', result: null, pageNo: 0, history: [], timer: null };
const PAGE_ROWS = 100;

const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === 'text') e.textContent = v;
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== false && v !== null && v !== undefined) e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// Form encoding with %20 for spaces: the server decodes percent escapes only.
function encode(params) {
  const parts = [];
  for (const [k, v] of params) parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
  return parts.join('&');
}

async function api(method, path, params) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (method === 'POST') {
    opts.headers['Content-Type'] = 'application/x-www-form-urlencoded';
    if (state.me) opts.headers['X-CSRF-Token'] = state.me.csrf;
    opts.body = encode(params || []);
  }
  const res = await fetch(path, opts);
  let body;
  try { body = await res.json(); } catch (e) { body = { error: 'bad answer from the server (' + res.status + ')' }; }
  if (res.status === 401 && path !== '/api/login') { showLogin(); throw new Error(body.error || 'log in'); }
  body.status = res.status;
  return body;
}

// A command of the line protocol, as words.
function command(...words) {
  return api('POST', '/api/command', words.map((w) => ['w', w]));
}

function toast(text, bad) {
  const t = $('toast');
  t.textContent = text;
  t.className = bad ? 'bad' : '';
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

function report(answer, okText) {
  if (answer.error) toast(answer.error, true);
  else if (okText) toast(okText);
  return !answer.error;
}

function fmtBytes(n) {
  if (n === undefined || n === null) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + ' ' + units[i];
}

function fmtDuration(s) {
  s = Math.floor(s);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return d + 'd ' + h + 'h';
  if (h) return h + 'h ' + m + 'm';
  return m + 'm ' + (s % 60) + 's';
}

// ---- login ----

function showLogin() {
  state.me = null;
  document.body.classList.remove('is-super');
  $('nav').hidden = true;
  $('who').hidden = true;
  for (const p of document.querySelectorAll('.page')) p.hidden = true;
  $('login').hidden = false;
  stopPolling();
}

function loggedIn(me) {
  state.me = me;
  document.body.classList.toggle('is-super', !!me.super);
  $('login').hidden = true;
  $('nav').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = me.user + (me.super ? ' (super user)' : '');
  route();
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const err = $('login-error');
  err.hidden = true;
  const me = await api('POST', '/api/login', [['user', $('login-user').value], ['password', $('login-password').value]]);
  $('login-password').value = '';
  if (me.error) { err.textContent = me.error; err.hidden = false; return; }
  loggedIn(me);
});

$('logout').addEventListener('click', async () => {
  await api('POST', '/api/logout', []);
  showLogin();
});

// ---- navigation ----

function route() {
  if (!state.me) return;
  let page = (location.hash || '#overview').slice(1);
  if (!['overview', 'databases', 'users', 'grants', 'sessions', 'console'].includes(page)) page = 'overview';
  if (!state.me.super && ['users', 'grants', 'sessions'].includes(page)) page = 'overview';
  state.page = page;
  for (const p of document.querySelectorAll('.page')) p.hidden = p.id !== 'page-' + page;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === page);
  stopPolling();
  ({ overview: loadOverview, databases: loadDatabases, users: loadUsers, grants: loadGrants, sessions: loadSessions, console: loadConsole })[page]();
}
window.addEventListener('hashchange', route);

// ---- overview ----

function stopPolling() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

function card(k, v) {
  return el('div', { class: 'stat' }, el('div', { class: 'v', text: v }), el('div', { class: 'k', text: k }));
}

function drawChart(canvas, series, colors) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  let max = 0;
  for (const s of series) for (const v of s) max = Math.max(max, v);
  max = max > 0 ? max * 1.15 : 1;
  ctx.strokeStyle = '#e2e5ea';
  ctx.fillStyle = '#6b7385';
  ctx.font = '10px sans-serif';
  for (let i = 0; i <= 2; i++) {
    const y = h - 14 - (i * (h - 24)) / 2;
    ctx.beginPath(); ctx.moveTo(42, y); ctx.lineTo(w, y); ctx.stroke();
    ctx.fillText((max * i / 2).toPrecision(3).replace(/\.?0+$/, ''), 0, y + 3);
  }
  series.forEach((s, k) => {
    ctx.strokeStyle = colors[k];
    ctx.lineWidth = 2;
    ctx.beginPath();
    // The newest point at the right edge, 150 points (5 minutes) across.
    s.forEach((v, i) => {
      const x = w - 2 - ((s.length - 1 - i) * (w - 44)) / 149;
      const y = h - 14 - (v / max) * (h - 24);
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    });
    ctx.stroke();
  });
}

async function pollOverview() {
  const o = await api('GET', '/api/overview');
  if (o.error) {
    $('overview-cards').replaceChildren();
    $('overview-charts').hidden = true;
    $('overview-note').textContent = 'Server statistics are shown to the super user. Your databases are under Databases, and you can query them in the console.';
    stopPolling();
    return;
  }
  $('overview-charts').hidden = false;
  $('overview-note').textContent = 'Polled every 2 s; the charts cover the last 5 minutes.';
  const h = state.history, prev = h[h.length - 1];
  const point = { t: o.uptime, q: o.queries, s: o.query_seconds, open: o.stats.pool.open, pinned: o.stats.pool.pinned, qps: 0, lat: 0 };
  if (prev && point.t > prev.t) {
    const dq = point.q - prev.q;
    point.qps = dq / (point.t - prev.t);
    point.lat = dq > 0 ? ((point.s - prev.s) / dq) * 1000 : 0;
  }
  h.push(point);
  while (h.length > 150) h.shift();
  const st = o.stats;
  $('overview-cards').replaceChildren(
    card('uptime', fmtDuration(o.uptime)),
    card('queries per second', point.qps.toFixed(1)),
    card('mean latency', o.queries ? ((o.query_seconds / o.queries) * 1000).toFixed(2) + ' ms' : '-'),
    card('requests / errors', o.requests + ' / ' + o.errors),
    card('connections (TLS)', st.sessions.active + ' (' + st.sessions.tls + ')'),
    card('pool open / pinned / size', st.pool.open + ' / ' + st.pool.pinned + ' / ' + st.pool.size),
    card('statement cache hits', st.statements.hits + ' of ' + (st.statements.hits + st.statements.misses)),
    card('worker threads (peak)', st.workers.threads + ' (' + st.workers.peak + ')'),
    card('memory allocated', fmtBytes(st.memory.allocated)),
    card('PostgreSQL port', o.pg_port === 0 ? 'off' : o.pg_port < 0 ? 'any free port' : String(o.pg_port)),
    card('admin page sessions', String(o.admin_sessions)),
  );
  const rc = st.result_cache;
  if (rc) {
    let hits = 0, misses = 0;
    for (const d of rc.databases || []) { hits += d.hits; misses += d.misses; }
    $('overview-cards').append(rc.enabled
      ? card('result cache hits (' + rc.entries + ' entries, ' + fmtBytes(rc.bytes) + ')', hits + ' of ' + (hits + misses))
      : card('result cache', 'off'));
  }
  drawChart($('chart-qps'), [h.map((p) => p.qps)], ['#2f6fde']);
  drawChart($('chart-latency'), [h.map((p) => p.lat)], ['#e8710a']);
  drawChart($('chart-pool'), [h.map((p) => p.open), h.map((p) => p.pinned)], ['#2e7d32', '#8e24aa']);
}

function loadOverview() {
  pollOverview().catch(() => {});
  state.timer = setInterval(() => pollOverview().catch(() => {}), 2000);
}

// ---- databases ----

async function databases() {
  const d = await api('GET', '/api/databases');
  if (d.error) { toast(d.error, true); return { databases: [], state: {} }; }
  return d;
}

// The PostgreSQL link of a database (dbstatus.h): none, audit, or CDC with its stream's
// state and lag; "job running" while a link, migrate or unlink holds it.
function linkCell(st) {
  if (!st) return el('td', { class: 'super-only', 'data-link': '' });
  const attrs = { class: 'super-only', 'data-link': st.link_busy ? 'busy' : st.linked ? 'linked' : 'none',
    'data-link-mode': st.link_mode || '' };
  let text = 'not linked', cls = '';
  if (st.link_busy) {
    text = 'job running'; cls = ' busy';
  } else if (st.link_mode === 'cdc' && st.cdc) {
    attrs['data-cdc-state'] = st.cdc.state;
    attrs['data-cdc-lag'] = String(st.cdc.lag_bytes);
    attrs.title = st.cdc.changes + ' changes applied since the server started';
    text = 'CDC ' + st.cdc.state + (st.cdc.state === 'streaming' ? ', lag ' + fmtBytes(st.cdc.lag_bytes) : '');
    cls = st.cdc.state === 'streaming' ? ' on' : st.cdc.state === 'retrying' ? ' bad' : st.cdc.state === 'starting' ? ' busy' : '';
  } else if (st.linked) {
    text = 'linked (audit)'; cls = ' on';
  }
  return el('td', attrs, el('span', { class: 'badge' + cls, text }));
}

async function loadDatabases() {
  const d = await databases();
  const rows = d.databases.map((db) => {
    const input = el('input', { placeholder: 'new name', 'aria-label': 'new name of ' + db.name });
    const rename = el('td', { class: 'super-only' }, el('div', { class: 'inline' }, input,
      el('button', { class: 'small', text: 'Rename', onclick: async () => {
        if (report(await command('update', 'database', db.name, input.value), 'Database renamed')) loadDatabases();
      } })));
    const backup = el('button', { class: 'small', text: 'Backup', onclick: async () => {
      backup.disabled = true;
      try {
        if (report(await command('backup', db.name), 'Backup of ' + db.name + ' taken')) loadBackups();
      } finally { backup.disabled = false; }
    } });
    const drop = confirmButton('Drop', 'Confirm drop', async () => {
      if (report(await command('drop', 'database', db.name), 'Database ' + db.name + ' dropped')) loadDatabases();
    }, 'drop:' + db.name);
    const st = d.state[db.name];
    return el('tr', { 'data-db': db.name },
      el('td', { text: db.name }),
      el('td', { text: state.me.super ? 'all (super user)' : (db.access || '') }),
      el('td', { class: 'num', text: st ? fmtBytes(st.bytes) : '' }),
      el('td', { class: 'super-only', 'data-pool': st ? (st.open ? 'open' : 'closed') : '' },
        st ? el('span', { class: 'badge' + (st.open ? ' on' : ''), text: st.open ? 'open, ' + st.pins + (st.pins === 1 ? ' pin' : ' pins') : 'closed' }) : ''),
      el('td', { class: 'super-only num', 'data-sessions': st ? String(st.sessions) : '', text: st ? String(st.sessions) : '' }),
      linkCell(st),
      rename,
      el('td', { class: 'super-only' }, el('div', { class: 'actions' }, backup, drop)));
  });
  $('db-list').replaceChildren(...rows);
  if (state.me.super) await loadBackups();
}

// A button for a destructive action: the first click arms it, a second within 4 s acts.
// The armed state is kept by `key` so that a page redrawn meanwhile (the sessions page
// polls) keeps it.
const armedUntil = new Map();
function confirmButton(label, armedLabel, action, key) {
  key = key || label + Math.random();
  const isArmed = () => (armedUntil.get(key) || 0) > Date.now();
  const b = el('button', { class: 'small danger', text: isArmed() ? armedLabel : label });
  if (isArmed()) setTimeout(() => { if (!isArmed()) b.textContent = label; }, armedUntil.get(key) - Date.now() + 10);
  b.addEventListener('click', async () => {
    if (!isArmed()) {
      armedUntil.set(key, Date.now() + 4000);
      b.textContent = armedLabel;
      setTimeout(() => { if (!isArmed()) b.textContent = label; }, 4010);
      return;
    }
    armedUntil.delete(key);
    b.textContent = label;
    b.disabled = true;
    try { await action(); } finally { b.disabled = false; }
  });
  return b;
}

// Verify: `verify backup ID` reads every file of the backup back and checks its digest.
function verifyCell(id) {
  const result = el('span', { class: 'verify-result' });
  const button = el('button', { class: 'small', text: 'Verify', onclick: async () => {
    button.disabled = true;
    result.textContent = 'checking...';
    result.className = 'verify-result badge';
    try {
      const a = await command('verify', 'backup', id);
      const r = !a.error && Array.isArray(a.answer) ? a.answer[0] : null;
      if (r && r.ok) {
        result.textContent = 'ok: ' + r.files + ' files, ' + fmtBytes(r.bytes);
        result.className = 'verify-result badge on';
      } else {
        result.textContent = a.error || 'not ok';
        result.className = 'verify-result badge bad';
      }
    } finally { button.disabled = false; }
  } });
  return el('div', { class: 'inline' }, button, result);
}

async function loadBackups() {
  const l = await command('list', 'backups');
  const list = l.error ? [] : l.answer;
  if (l.error) toast(l.error, true);
  // Base backups, then one row per database whose continuous archive can be restored to any
  // point between its earliest and latest time (docs/backup.md).
  const bases = list.filter((b) => b.kind !== 'archive');
  const archives = list.filter((b) => b.kind === 'archive');
  $('backup-none').hidden = bases.length > 0;
  const when = (t) => String(t || '').replace('T', ' ').replace('Z', '');
  const restored = (answer, what, name) => {
    if (report(answer, 'Restored ' + what + ' as ' + name.value)) {
      name.value = '';
      loadDatabases();
    }
  };
  $('backup-list').replaceChildren(...bases.map((b) => {
    const name = el('input', { placeholder: 'new database name', 'aria-label': 'restore ' + b.id + ' as' });
    return el('tr', { 'data-backup': b.id },
      el('td', { class: 'stmt', text: b.id }),
      el('td', { text: b.database }),
      el('td', { text: when(b.time) }),
      el('td', { class: 'num', text: fmtBytes(b.bytes) }),
      el('td', {}, verifyCell(b.id)),
      el('td', {}, el('div', { class: 'inline' }, name, el('button', { class: 'small', text: 'Restore', onclick: async () => {
        restored(await command('restore', b.database, 'as', name.value, 'from', b.id), b.id, name);
      } }))));
  }), ...archives.map((b) => {
    const name = el('input', { placeholder: 'new database name', 'aria-label': 'restore ' + b.database + ' as' });
    const at = el('input', { class: 'at', placeholder: 'UTC time (empty: latest)', 'aria-label': 'restore ' + b.database + ' at' });
    return el('tr', { 'data-archive': b.database },
      el('td', { class: 'stmt', text: 'continuous archive' }),
      el('td', { text: b.database }),
      el('td', { text: when(b.earliest) + ' \u2013 ' + when(b.latest) }),
      el('td', { class: 'num', text: fmtBytes(b.bytes) }),
      el('td', { class: 'muted', text: '\u2014' }),
      el('td', {}, el('div', { class: 'inline' }, name, at, el('button', { class: 'small', text: 'Restore', onclick: async () => {
        const t = at.value.trim();
        const words = t ? ['restore', b.database, 'as', name.value, 'at', t] : ['restore', b.database, 'as', name.value];
        restored(await command(...words), b.database + (t ? ' at ' + t : ''), name);
        if (!name.value) at.value = '';
      } }))));
  }));
}

$('db-create').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('db-create-name').value;
  if (report(await command('create', 'database', name), 'Database ' + name + ' created')) {
    $('db-create-name').value = '';
    loadDatabases();
  }
});

// ---- users ----

async function users() {
  const u = await command('list', 'users');
  return u.error ? [] : u.answer;
}

async function loadUsers() {
  const list = await users();
  $('user-list').replaceChildren(...list.map((u) => {
    const pw = el('input', { type: 'password', placeholder: 'new password', autocomplete: 'new-password', 'aria-label': 'new password of ' + u.name });
    const newName = el('input', { placeholder: 'new name', 'aria-label': 'new name of ' + u.name });
    const rename = u.super ? el('td', {}) : el('td', {}, el('div', { class: 'inline' }, newName, el('button', { class: 'small', text: 'Rename', onclick: async () => {
      if (report(await command('update', 'user', 'username', u.name, newName.value), 'User ' + u.name + ' renamed')) loadUsers();
    } })));
    return el('tr', { 'data-user': u.name },
      el('td', { text: u.name }),
      el('td', {}, el('span', { class: u.super ? 'badge super' : 'badge', text: u.super ? 'super user' : 'user' })),
      el('td', {}, el('div', { class: 'inline' }, pw, el('button', { class: 'small', text: 'Set password', onclick: async () => {
        if (report(await command('update', 'user', 'password', u.name, pw.value), 'Password of ' + u.name + ' changed')) pw.value = '';
      } }))), rename);
  }));
}

$('user-create').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const name = $('user-create-name').value;
  if (report(await command('create', 'user', name, $('user-create-password').value), 'User ' + name + ' created')) {
    $('user-create-name').value = '';
    $('user-create-password').value = '';
    loadUsers();
  }
});

// ---- grants ----

function fillSelect(select, values, keep) {
  const old = keep ? select.value : null;
  select.replaceChildren(...values.map((v) => el('option', { value: v, text: v })));
  if (old && values.includes(old)) select.value = old;
}

async function loadGrants() {
  const [d, u] = await Promise.all([databases(), users()]);
  fillSelect($('grant-db'), d.databases.map((x) => x.name), true);
  fillSelect($('grant-user'), u.filter((x) => !x.super).map((x) => x.name), true);
  await showGrants();
}

async function tablesOf(db) {
  const r = await api('POST', '/api/query', [['database', db], ['sql',
    "SELECT table_name AS name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' " +
    "UNION SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal ORDER BY 1"]]);
  if (r.error) { toast(r.error, true); return []; }
  return r.result.rows.map((row) => row[0]);
}

async function showGrants() {
  const db = $('grant-db').value, user = $('grant-user').value;
  if (!db || !user) { $('grant-tables').replaceChildren(); return; }
  const [tables, g] = await Promise.all([tablesOf(db), command('list', 'grants', user)]);
  const grants = g.error ? [] : g.answer.filter((x) => x.database === db);
  const dbGrant = grants.find((x) => !x.table);
  $('grant-access').value = dbGrant && dbGrant.access ? dbGrant.access : 'none';
  const privs = {};
  for (const x of grants) if (x.table) privs[x.table] = x.privileges || [];
  $('grant-tables').replaceChildren(...tables.map((t) => el('tr', { 'data-table': t },
    el('td', { text: t }),
    ...['select', 'insert', 'update', 'delete'].map((p) => {
      const box = el('input', { type: 'checkbox', 'aria-label': p + ' on ' + t, 'data-priv': p });
      box.checked = (privs[t] || []).includes(p);
      box.addEventListener('change', async () => {
        const a = await command(box.checked ? 'grant' : 'revoke', 'table', db, t, user, p);
        if (!report(a, (box.checked ? 'Granted ' : 'Revoked ') + p + ' on ' + t)) box.checked = !box.checked;
      });
      return el('td', {}, box);
    }))));
}

$('grant-db').addEventListener('change', showGrants);
$('grant-user').addEventListener('change', showGrants);
$('grant-access-save').addEventListener('click', async () => {
  const db = $('grant-db').value, user = $('grant-user').value, access = $('grant-access').value;
  const a = access === 'none' ? await command('revoke', 'database', db, user)
    : await command('grant', 'database', db, user, access);
  report(a, 'Access of ' + user + ' on ' + db + ': ' + access);
});

// ---- sessions ----

function fmtMs(ms) {
  if (ms === null || ms === undefined) return '';
  return ms < 1000 ? ms + ' ms' : (ms / 1000).toFixed(1) + ' s';
}

async function pollSessions() {
  const l = await command('show', 'sessions');
  if (l.error) { toast(l.error, true); stopPolling(); return; }
  $('session-list').replaceChildren(...l.answer.map((r) => {
    const mine = r.session === state.me.session;
    const cancel = el('button', { class: 'small', text: 'Cancel statement', disabled: r.state !== 'active' || mine, onclick: async () => {
      if (report(await command('cancel', String(r.session)), 'Statement of session ' + r.session + ' canceled')) pollSessions();
    } });
    const end = confirmButton('End session', 'Confirm end', async () => {
      if (report(await command('terminate', String(r.session)), 'Session ' + r.session + ' ended')) pollSessions();
    }, 'terminate:' + r.session);
    if (mine) end.disabled = true;
    const user = el('td', { class: 'nowrap', text: r.user });
    if (mine) user.append(el('span', { class: 'badge me', text: 'this page' }));
    return el('tr', { 'data-session': String(r.session), 'data-state': r.state },
      el('td', { class: 'num', text: String(r.session) }),
      user,
      el('td', { text: r.database || '' }),
      el('td', { text: r.client }),
      el('td', { text: r.tls ? 'yes' : 'no' }),
      el('td', {}, el('span', { class: 'badge' + (r.state === 'active' ? ' active' : r.in_transaction ? ' tx' : ''), text: r.state })),
      el('td', { class: 'stmt', title: r.statement || '', text: (r.statement || '') + (r.truncated ? '...' : '') }),
      el('td', { class: 'num', text: fmtMs(r.running_ms) }),
      el('td', { text: r.in_transaction ? 'open' : '' }),
      el('td', {}, el('div', { class: 'actions' }, cancel, end)));
  }));
}

function loadSessions() {
  pollSessions().catch(() => {});
  state.timer = setInterval(() => pollSessions().catch(() => {}), 2000);
}

// ---- query console ----

async function loadConsole() {
  const d = await databases();
  fillSelect($('q-db'), d.databases.map((x) => x.name), true);
}

function cellText(v) {
  if (v === null) return 'NULL';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function renderPage() {
  const r = state.result;
  const table = $('q-table');
  if (!r || !r.columns) { table.replaceChildren(); $('q-pager').hidden = true; return; }
  const pages = Math.max(1, Math.ceil(r.rows.length / PAGE_ROWS));
  state.pageNo = Math.min(Math.max(0, state.pageNo), pages - 1);
  const start = state.pageNo * PAGE_ROWS;
  const head = el('thead', {}, el('tr', {}, ...r.columns.map((c) => el('th', { title: c.type, text: c.name }))));
  const body = el('tbody', {}, ...r.rows.slice(start, start + PAGE_ROWS).map((row) =>
    el('tr', {}, ...row.map((v) => el('td', { class: v === null ? 'null' : (typeof v === 'number' ? 'num' : ''), text: cellText(v) })))));
  table.replaceChildren(head, body);
  $('q-pager').hidden = pages <= 1;
  $('q-page').textContent = 'page ' + (state.pageNo + 1) + ' of ' + pages + ' (rows ' + (r.rows.length ? start + 1 : 0) + '-' + Math.min(start + PAGE_ROWS, r.rows.length) + ')';
}

// An EXPLAIN answer (columns explain_key, explain_value) is shown as the plan's text.
function isPlan(res) {
  return res.columns && res.columns.length === 2 && res.columns[0].name === 'explain_key' &&
    res.columns[1].name === 'explain_value';
}

async function runQuery(explain) {
  const db = $('q-db').value;
  let sql = $('q-sql').value;
  if (explain === true) sql = 'EXPLAIN ' + sql.trim().replace(/;\s*$/, '');
  $('q-error').hidden = true;
  $('q-plan').hidden = true;
  $('q-status').textContent = 'running...';
  $('q-run').disabled = true;
  $('q-explain').disabled = true;
  try {
    const r = await api('POST', '/api/query', [['database', db], ['sql', sql]]);
    const ms = r.seconds !== undefined ? (r.seconds * 1000).toFixed(1) + ' ms' : '';
    if (r.error) {
      state.result = null;
      $('q-error').textContent = r.error;
      $('q-error').hidden = false;
      $('q-status').textContent = 'failed after ' + ms;
    } else {
      const res = r.result;
      if (res.rows && isPlan(res)) {
        $('q-plan').textContent = res.rows.map((row) => row[1]).join('\n');
        $('q-plan').hidden = false;
      }
      state.result = res.rows && !isPlan(res) ? res : null;
      state.pageNo = 0;
      $('q-status').textContent = res.rows && isPlan(res) ? 'plan in ' + ms
        : res.rows ? res.rows.length + ' rows in ' + ms
        : res.changed !== undefined ? res.changed + ' rows changed in ' + ms : 'done in ' + ms;
    }
    $('q-csv').disabled = !state.result;
    renderPage();
  } finally {
    $('q-run').disabled = false;
    $('q-explain').disabled = false;
  }
}

function csvField(v) {
  const s = v === null ? '' : cellText(v);
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

function downloadCsv() {
  const r = state.result;
  if (!r) return;
  const lines = [r.columns.map((c) => csvField(c.name)).join(',')];
  for (const row of r.rows) lines.push(row.map(csvField).join(','));
  const blob = new Blob([lines.join('\r\n') + '\r\n'], { type: 'text/csv' });
  const a = el('a', { href: URL.createObjectURL(blob), download: 'result.csv' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

$('q-run').addEventListener('click', () => runQuery(false));
$('q-explain').addEventListener('click', () => runQuery(true));
$('q-csv').addEventListener('click', downloadCsv);
$('q-sql').addEventListener('keydown', (ev) => { if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); runQuery(); } });
$('q-first').addEventListener('click', () => { state.pageNo = 0; renderPage(); });
$('q-prev').addEventListener('click', () => { state.pageNo--; renderPage(); });
$('q-next').addEventListener('click', () => { state.pageNo++; renderPage(); });
$('q-last').addEventListener('click', () => { state.pageNo = 1e9; renderPage(); });

// ---- start ----

(async () => {
  const res = await fetch('/api/me', { credentials: 'same-origin' });
  if (res.ok) loggedIn(await res.json()); else showLogin();
})();
