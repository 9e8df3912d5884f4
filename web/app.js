/* drudge web - the dashboard's one script: plain JavaScript, no build step.
 *
 * Every page is rendered here from the JSON API. Text from the queues (job
 * errors, payloads, class names) is only ever put into the page as text
 * nodes (el() below); nothing is assigned to innerHTML. Changes send the
 * dashboard token as "Authorization: Bearer ..." (never a cookie): it comes
 * from the address (#token=..., as `drudge web` prints it) or the Token
 * dialog, and is kept in this tab's sessionStorage. */
'use strict';

(() => {
  const TOKEN_KEY = 'drudge-token';
  const REFRESH_MS = 2000;
  const FINAL = new Set(['done', 'failed', 'cancelled']);

  // ---- small DOM helpers ----

  /* el('a', {href: '/x', class: 'y', onclick: f}, 'text', child) */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'class') node.className = v;
      else if (k === 'text') node.textContent = v;
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else node.setAttribute(k, v === true ? '' : String(v));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function replace(node, ...children) {
    node.replaceChildren();
    return append(node, children);
  }

  function svg(tag, attrs) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    return node;
  }

  // ---- formatting ----

  const nf = new Intl.NumberFormat();
  function num(n) { return n === null || n === undefined ? '–' : nf.format(n); }
  function numCell(n, field) {
    return el('td', {class: 'num' + (n ? '' : ' zero'), dataset: {field}}, num(n));
  }
  function bytes(b) {
    if (b === null || b === undefined) return '–';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let u = 0;
    while (b >= 1024 && u < units.length - 1) { b /= 1024; u++; }
    return (u ? b.toFixed(1) : String(Math.round(b))) + ' ' + units[u];
  }
  function span(ms) {
    if (ms === null || ms === undefined || Number.isNaN(ms)) return '–';
    ms = Math.abs(ms);
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 10000) return (ms / 1000).toFixed(1) + ' s';
    const units = [[86400000, 'd'], [3600000, 'h'], [60000, 'min'], [1000, 's']];
    for (let i = 0; i < units.length; i++) {
      if (ms < units[i][0]) continue;
      const big = Math.floor(ms / units[i][0]);
      const small = i + 1 < units.length ? Math.floor((ms % units[i][0]) / units[i + 1][0]) : 0;
      return big + ' ' + units[i][1] + (small ? ' ' + small + ' ' + units[i + 1][1] : '');
    }
    return '–';
  }
  function time(ms) {
    if (!ms) return '–';
    const d = new Date(Number(ms));
    return d.toLocaleString();
  }
  function ago(ms, now) { return ms ? span((now || Date.now()) - Number(ms)) + ' ago' : '–'; }
  function rate(v) { return v === null || v === undefined ? '–' : v < 10 ? v.toFixed(1) : nf.format(Math.round(v)); }
  function pretty(text) {
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (e) { return String(text); }
  }
  function badge(state, label) { return el('span', {class: 'badge ' + state, dataset: {state}}, label || state); }
  function classLink(cls) { return el('a', {href: '/classes/' + encodeURIComponent(cls)}, cls); }
  function jobLink(cls, id) {
    return el('a', {href: '/jobs/' + encodeURIComponent(cls) + '/' + encodeURIComponent(id), class: 'mono', title: id},
      id.length > 24 ? id.slice(0, 20) + '…' : id);
  }

  // ---- token ----

  function readTokenFromAddress() {
    const m = location.hash.match(/^#token=([^&]+)/);
    if (!m) return;
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
  function askToken() {
    const dialog = document.getElementById('token-dialog');
    document.getElementById('token-input').value = token();
    dialog.showModal();
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => {
        const v = dialog.returnValue;
        if (v === 'save') sessionStorage.setItem(TOKEN_KEY, document.getElementById('token-input').value.trim());
        if (v === 'forget') sessionStorage.removeItem(TOKEN_KEY);
        updateTokenButton();
        resolve(v === 'save');
      }, {once: true});
    });
  }
  function updateTokenButton() {
    const b = document.getElementById('token-button');
    b.textContent = token() ? 'Token ✓' : 'Token';
    b.title = token() ? 'a token is set for this tab' : 'set the token to pause, retry and push';
  }

  // ---- notices ----

  let noticeTimer = null;
  function notice(text, kind) {
    const n = document.getElementById('notice');
    n.textContent = text;
    n.className = 'notice' + (kind ? ' ' + kind : '');
    n.hidden = false;
    clearTimeout(noticeTimer);
    if (kind !== 'error') noticeTimer = setTimeout(() => { n.hidden = true; }, 5000);
  }
  function clearNotice() { document.getElementById('notice').hidden = true; }

  function setLive(ok, text) {
    const live = document.getElementById('live');
    live.className = 'live ' + (ok ? 'ok' : 'bad');
    live.textContent = text;
  }

  // ---- the API ----

  /* {ok, status, data}; data is the parsed JSON (or {error}). */
  async function api(method, path, body, retried) {
    const headers = {Accept: 'application/json'};
    if (token()) headers.Authorization = 'Bearer ' + token();
    let payload;
    if (body instanceof Blob) {
      payload = body;
      headers['Content-Type'] = body.type || 'application/octet-stream';
    } else if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    }
    let res;
    try {
      res = await fetch(path, {method, headers, body: payload, credentials: 'omit', cache: 'no-store'});
    } catch (e) {
      return {ok: false, status: 0, data: {error: 'the dashboard is unreachable'}};
    }
    let data;
    try { data = await res.json(); } catch (e) { data = {error: res.statusText}; }
    if (res.status === 401 && !retried && await askToken()) return api(method, path, body, true);
    return {ok: res.ok, status: res.status, data};
  }

  /* A change: run it, say what happened, refresh the page's data. */
  async function act(button, method, path, body, done) {
    if (button) button.disabled = true;
    const r = await api(method, path, body);
    if (button) button.disabled = false;
    if (!r.ok) notice(r.data.error || ('failed: HTTP ' + r.status), 'error');
    else if (done) notice(done(r.data), 'ok');
    if (current && current.refresh) current.refresh();
    return r;
  }

  /* Server-Sent Events over fetch (so the token header can go along).
   * onStatus(status) for each change; onEnd(status) once; reconnects after
   * a dropped connection until the job ends or close() is called. */
  function follow(cls, id, onStatus, onEnd) {
    const ctl = new AbortController();
    let ended = false;
    const path = '/api/jobs/' + encodeURIComponent(cls) + '/' + encodeURIComponent(id) + '/events';
    async function run() {
      while (!ended && !ctl.signal.aborted) {
        try {
          const headers = {Accept: 'text/event-stream'};
          if (token()) headers.Authorization = 'Bearer ' + token();
          const res = await fetch(path, {headers, signal: ctl.signal, credentials: 'omit', cache: 'no-store'});
          if (!res.ok) {
            let err = 'HTTP ' + res.status;
            try { err = (await res.json()).error || err; } catch (e) { /* not JSON */ }
            ended = true;
            onEnd(null, err);
            return;
          }
          const reader = res.body.getReader();
          const decoder = new TextDecoder();
          let buf = '';
          for (;;) {
            const {value, done} = await reader.read();
            if (done) break;
            buf += decoder.decode(value, {stream: true});
            let cut;
            while ((cut = buf.indexOf('\n\n')) >= 0) {
              const block = buf.slice(0, cut);
              buf = buf.slice(cut + 2);
              let event = 'message';
              const data = [];
              for (const line of block.split('\n')) {
                if (line.startsWith('event:')) event = line.slice(6).trim();
                else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
              }
              if (!data.length) continue;
              const st = JSON.parse(data.join('\n'));
              if (event === 'status') onStatus(st);
              else if (event === 'end') { ended = true; onEnd(st); }
            }
          }
        } catch (e) {
          if (ctl.signal.aborted) return;
        }
        if (!ended) await new Promise((r) => setTimeout(r, 2000));
      }
    }
    run();
    return {close() { ctl.abort(); }};
  }

  // ---- pages ----

  let current = null; // {refresh, stop}

  function poll(fn, ms) {
    let timer = null, stopped = false;
    async function tick() {
      await fn();
      if (!stopped) timer = setTimeout(tick, ms);
    }
    tick();
    return {refresh: fn, stop() { stopped = true; clearTimeout(timer); }};
  }

  function card(label, value, field, warn) {
    return el('div', {class: 'card' + (warn ? ' warn' : ''), dataset: {card: field}},
      el('div', {class: 'label'}, label), el('div', {class: 'value'}, value));
  }

  /* The last hour per minute, from the workers' per-minute counters in
   * Redis: jobs done (blue, filled) and failed (red); the last point is
   * the current minute so far. */
  function sparkline(series, cls, W = 180, H = 36) {
    const n = series.processed.length;
    const all = series.processed.concat(series.failed).filter((v) => v !== null);
    const max = Math.max(1, ...all);
    const s = svg('svg', {class: 'spark', width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img',
      'aria-label': `${cls}: jobs per minute, last hour`});
    s.appendChild(svg('line', {class: 'grid', x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5}));
    function points(values) {
      const runs = [];
      let run = [];
      values.forEach((v, i) => {
        if (v === null) { if (run.length) runs.push(run); run = []; return; }
        run.push([(i / (n - 1)) * W, H - 2 - (v / max) * (H - 6)]);
      });
      if (run.length) runs.push(run);
      return runs;
    }
    for (const run of points(series.processed)) {
      if (run.length === 1) run.push([run[0][0] + 2, run[0][1]]);
      const line = run.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join(' ');
      s.appendChild(svg('polygon', {class: 'area', points: `${run[0][0].toFixed(1)},${H} ${line} ${run[run.length - 1][0].toFixed(1)},${H}`}));
      s.appendChild(svg('polyline', {class: 'done', points: line}));
    }
    for (const run of points(series.failed)) {
      if (run.every((p) => p[1] >= H - 2.01)) continue; // no failures: no red line over the axis
      if (run.length === 1) run.push([run[0][0] + 2, run[0][1]]);
      s.appendChild(svg('polyline', {class: 'fail', points: run.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join(' ')}));
    }
    const title = svg('title', {});
    const done = series.processed.filter((v) => v !== null).reduce((a, b) => a + b, 0);
    const failed = series.failed.filter((v) => v !== null).reduce((a, b) => a + b, 0);
    const from = series.start_minute ? new Date(series.start_minute * 60000).toLocaleTimeString([], {hour: '2-digit', minute: '2-digit'}) : '';
    title.textContent = `last hour${from ? ' (from ' + from + ')' : ''}: ${done} done, ${failed} failed; busiest minute ${max}`;
    s.appendChild(title);
    return s;
  }

  function pausedText(p) {
    if (!p) return null;
    return p.reason + (p.ttl_ms > 0 ? ` (${span(p.ttl_ms)} left)` : '');
  }

  function pauseButtons(cls, paused) {
    return paused
      ? el('button', {class: 'small', dataset: {action: 'resume', class: cls},
        onclick: (e) => act(e.target, 'POST', `/api/classes/${encodeURIComponent(cls)}/resume`, undefined, () => `${cls} resumed`)}, 'Resume')
      : el('button', {class: 'small', dataset: {action: 'pause', class: cls},
        onclick: (e) => act(e.target, 'POST', `/api/classes/${encodeURIComponent(cls)}/pause`, {reason: 'paused from the dashboard'}, () => `${cls} paused`)}, 'Pause');
  }

  function overview(main) {
    const cards = el('div', {class: 'cards'});
    const body = el('tbody');
    const capBody = el('div');
    const memInput = el('input', {type: 'text', value: '', placeholder: 'e.g. 4G', size: 8, 'aria-label': 'memory'});
    replace(main,
      el('h1', {}, 'Overview'),
      el('p', {class: 'sub'}, 'Every class with what waits, runs and fails; numbers update every two seconds.'),
      cards,
      el('section', {class: 'panel'},
        el('div', {class: 'panel-head'}, el('h2', {}, 'Classes'),
          el('span', {class: 'hint', id: 'plot-hint'}, 'last hour: jobs per minute, done (blue) and failed (red), ' +
            'as the workers count them in Redis; the last point is the current minute so far')),
        el('table', {id: 'classes'},
          el('thead', {}, el('tr', {},
            el('th', {}, 'Class'), el('th', {class: 'num'}, 'Queued'), el('th', {class: 'num'}, 'Running'),
            el('th', {class: 'num'}, 'Delayed'), el('th', {class: 'num'}, 'Failed'), el('th', {}, 'Paused'),
            el('th', {class: 'num'}, 'Workers'), el('th', {class: 'num'}, 'Done/min'), el('th', {class: 'num'}, 'Failed/min'),
            el('th', {}, 'Last hour'), el('th', {}, ''))),
          body)),
      el('section', {class: 'panel', id: 'capacity'},
        el('div', {class: 'panel-head'}, el('h2', {}, 'Capacity'),
          el('span', {class: 'hint'}, 'measured RSS of live workers × mean job time; a month is 30 days'),
          el('div', {class: 'tools'}, el('label', {}, 'Memory '), memInput,
            el('button', {class: 'small', onclick: () => loadCapacity()}, 'Compute'))),
        capBody));

    async function loadCapacity() {
      const m = memInput.value.trim();
      const r = await api('GET', '/api/capacity' + (m ? '?memory=' + encodeURIComponent(m) : ''));
      if (!r.ok) { replace(capBody, el('p', {class: 'hint'}, r.data.error || 'unavailable')); return; }
      const c = r.data;
      if (!memInput.value) memInput.placeholder = bytes(c.memory_bytes);
      const rows = c.classes.map((k) => el('tr', {dataset: {class: k.class}},
        el('td', {}, classLink(k.class)), el('td', {class: 'num'}, num(k.workers)),
        el('td', {class: 'num'}, bytes(k.rss_bytes)),
        el('td', {class: 'num'}, k.job_ms === null ? '–' : span(k.job_ms)),
        el('td', {class: 'num'}, num(k.fit)),
        el('td', {class: 'num'}, k.jobs_per_second === null ? '–' : rate(k.jobs_per_second)),
        el('td', {class: 'num'}, num(k.jobs_per_month))));
      const mix = c.mix;
      replace(capBody,
        el('table', {},
          el('thead', {}, el('tr', {}, el('th', {}, 'Class'), el('th', {class: 'num'}, 'Live workers'),
            el('th', {class: 'num'}, 'RSS / worker'), el('th', {class: 'num'}, 'Mean job'),
            el('th', {class: 'num'}, 'Fit in ' + bytes(c.memory_bytes)), el('th', {class: 'num'}, 'Jobs / s'),
            el('th', {class: 'num'}, 'Jobs / month'))),
          el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', {colspan: 7, class: 'empty'}, 'no classes yet')))),
        el('p', {class: 'hint'}, mix.fit === null
          ? 'No live worker has reported its memory yet.'
          : !mix.jobs_per_month
            ? `Now ${num(mix.workers)} live workers in ${bytes(mix.rss_bytes)}; the same mix grown to ${bytes(c.memory_bytes)}: ` +
              `${num(mix.fit)} workers. Jobs per month show once jobs have run.`
            : `Now ${num(mix.workers)} live workers in ${bytes(mix.rss_bytes)} can do up to ${num(mix.jobs_per_month)} jobs a month; ` +
              `the same mix grown to ${bytes(c.memory_bytes)}: ${num(mix.fit)} workers, ${num(mix.fit_jobs_per_month)} jobs a month.`));
    }

    let capAge = 0;
    const p = poll(async () => {
      const r = await api('GET', '/api/stats');
      if (!r.ok) { setLive(false, r.data.error || 'unavailable'); return; }
      setLive(true, 'live · ' + new Date().toLocaleTimeString());
      const s = r.data, cls = s.classes;
      const total = (f) => cls.reduce((a, c) => a + (c[f] || 0), 0);
      replace(cards,
        card('Queued', num(total('queued')), 'queued'), card('Running', num(total('running')), 'running'),
        card('Delayed', num(total('delayed')), 'delayed'), card('Failed', num(total('failed')), 'failed', total('failed') > 0),
        card('Live workers', num(s.workers.live), 'workers'),
        card('Dead workers', num(s.workers.dead), 'dead', s.workers.dead > 0));
      const rows = cls.map((c) => el('tr', {dataset: {class: c.class}},
        el('td', {}, classLink(c.class)),
        numCell(c.queued, 'queued'), numCell(c.running, 'running'), numCell(c.delayed, 'delayed'),
        numCell(c.failed, 'failed'),
        el('td', {dataset: {field: 'paused'}}, c.paused ? [badge('paused'), ' ', pausedText(c.paused)] : el('span', {class: 'zero'}, '–')),
        numCell(c.workers, 'workers'),
        el('td', {class: 'num', dataset: {field: 'processed_pm'}}, rate(c.per_minute && c.per_minute.processed)),
        el('td', {class: 'num', dataset: {field: 'failed_pm'}}, rate(c.per_minute && c.per_minute.failed)),
        el('td', {}, sparkline(c.series, c.class)),
        el('td', {class: 'actions'}, pauseButtons(c.class, c.paused))));
      replace(body, rows.length ? rows : el('tr', {}, el('td', {colspan: 11, class: 'empty'},
        'No classes yet: push a job (drudge push NoopJob \'{}\') or start a worker.')));
      if (Date.now() - capAge > 10000) { capAge = Date.now(); loadCapacity(); }
    }, REFRESH_MS);
    return p;
  }

  function workers(main) {
    const body = el('tbody');
    replace(main,
      el('h1', {}, 'Workers'),
      el('p', {class: 'sub'}, 'Every registered worker process; one without a heartbeat for the configured dead_after is flagged dead (its jobs go back to the queue).'),
      el('section', {class: 'panel'},
        el('table', {id: 'workers'},
          el('thead', {}, el('tr', {},
            el('th', {}, 'Worker'), el('th', {}, 'Host'), el('th', {class: 'num'}, 'PID'), el('th', {}, 'Class'),
            el('th', {}, 'Current job'), el('th', {class: 'num'}, 'Running for'), el('th', {class: 'num'}, 'Jobs done'),
            el('th', {class: 'num'}, 'RSS'), el('th', {class: 'num'}, 'Uptime'), el('th', {class: 'num'}, 'Last heartbeat'),
            el('th', {}, ''))),
          body)));
    return poll(async () => {
      const r = await api('GET', '/api/workers');
      if (!r.ok) { setLive(false, r.data.error || 'unavailable'); return; }
      setLive(true, 'live · ' + new Date().toLocaleTimeString());
      const now = r.data.now;
      const rows = r.data.workers.map((w) => el('tr', {class: w.dead ? 'dead' : '', dataset: {worker: w.id}},
        el('td', {class: 'mono'}, w.id), el('td', {}, w.host || '–'), el('td', {class: 'num'}, w.pid || '–'),
        el('td', {}, w.class ? classLink(w.class) : '–'),
        el('td', {}, w.job ? jobLink(w.class, w.job) : el('span', {class: 'zero'}, 'idle')),
        el('td', {class: 'num'}, w.job && w.job_started_at ? span(now - w.job_started_at) : '–'),
        el('td', {class: 'num'}, num(w.jobs_done)),
        el('td', {class: 'num'}, w.rss_kb ? bytes(w.rss_kb * 1024) : '–'),
        el('td', {class: 'num'}, w.started_at ? span(now - w.started_at) : '–'),
        el('td', {class: 'num'}, span(w.heartbeat_age_ms) + ' ago'),
        el('td', {}, w.dead ? badge('dead') : badge('live-worker', 'live'))));
      replace(body, rows.length ? rows : el('tr', {}, el('td', {colspan: 11, class: 'empty'}, 'No workers registered.')));
    }, REFRESH_MS);
  }

  function classPage(main, cls) {
    const enc = encodeURIComponent(cls);
    const cards = el('div', {class: 'cards'});
    const pauseBox = el('div', {class: 'row'});
    const failedBody = el('tbody');
    const failedInfo = el('span', {class: 'hint'});
    const pager = el('div', {class: 'row'});
    const payloadInput = el('textarea', {id: 'push-payload', spellcheck: 'false'}, '{}');
    const pushResult = el('span', {class: 'hint'});
    const reason = el('input', {type: 'text', placeholder: 'reason (optional)', size: 28});
    const duration = el('select', {'aria-label': 'pause for'},
      el('option', {value: '0'}, 'until resumed'), el('option', {value: '300'}, 'for 5 minutes'),
      el('option', {value: '3600'}, 'for an hour'));
    const plotBox = el('div', {class: 'plot'});
    const delayedBody = el('tbody');
    const delayedInfo = el('span', {class: 'hint'});
    const delayedPager = el('div', {class: 'row'});
    let offset = 0, delayedOffset = 0;
    const LIMIT = 50;
    replace(main,
      el('h1', {}, cls),
      el('p', {class: 'sub'}, el('a', {href: '/'}, '← Overview'), ' · class ', el('code', {}, cls)),
      cards,
      el('section', {class: 'panel'},
        el('div', {class: 'panel-head'}, el('h2', {}, 'Last hour'),
          el('span', {class: 'hint'}, 'jobs per minute, done (blue) and failed (red); the last point is the current minute so far')),
        plotBox),
      el('section', {class: 'panel'}, el('div', {class: 'panel-head'}, el('h2', {}, 'Pause')), pauseBox),
      el('section', {class: 'panel'},
        el('div', {class: 'panel-head'}, el('h2', {}, 'Failed jobs'), failedInfo,
          el('div', {class: 'tools'},
            el('button', {dataset: {action: 'retry-all'}, onclick: (e) => {
              if (confirm(`Put every failed ${cls} job back on the queue?`))
                act(e.target, 'POST', `/api/classes/${enc}/failed/retry`, undefined, (d) => `${d.retried} job(s) retried`);
            }}, 'Retry all'),
            el('button', {class: 'danger', dataset: {action: 'delete-all'}, onclick: (e) => {
              if (confirm(`Delete every failed ${cls} job for good?`))
                act(e.target, 'POST', `/api/classes/${enc}/failed/delete`, undefined, (d) => `${d.deleted} job(s) deleted`);
            }}, 'Delete all'))),
        el('table', {id: 'failed'},
          el('thead', {}, el('tr', {}, el('th', {}, 'Job'), el('th', {}, 'Error'), el('th', {class: 'num'}, 'Attempts'),
            el('th', {}, 'Failed at'), el('th', {}, 'Payload'), el('th', {}, ''))),
          failedBody),
        pager),
      el('section', {class: 'panel'},
        el('div', {class: 'panel-head'}, el('h2', {}, 'Delayed jobs'), delayedInfo,
          el('span', {class: 'hint'}, 'delayed pushes and retries waiting for their backoff, soonest first')),
        el('table', {id: 'delayed'},
          el('thead', {}, el('tr', {}, el('th', {}, 'Job'), el('th', {}, 'Due'), el('th', {}, 'State'),
            el('th', {class: 'num'}, 'Attempts'), el('th', {}, 'Last error'), el('th', {}, 'Payload'), el('th', {}, ''))),
          delayedBody),
        delayedPager),
      el('section', {class: 'panel'},
        el('div', {class: 'panel-head'}, el('h2', {}, 'Push a job'),
          el('span', {class: 'hint'}, 'the payload is pushed byte for byte, as drudge push does')),
        payloadInput,
        el('div', {class: 'row'},
          el('button', {class: 'primary', dataset: {action: 'push'}, onclick: async (e) => {
            const r = await act(e.target, 'POST', `/api/jobs/${enc}`, payloadInput.value);
            if (r.ok || r.status === 409) replace(pushResult, r.ok ? 'pushed ' : 'already queued: ', jobLink(cls, r.data.id));
          }}, 'Push'), pushResult)));

    /* when a delayed job is due, against the dashboard server's clock */
    function due(ms, now) {
      if (!ms) return '–';
      return ms > now ? 'in ' + span(ms - now) : 'due ' + span(now - ms) + ' ago';
    }

    function showDelayed(d, now) {
      if (!d.ok) { replace(delayedBody, el('tr', {}, el('td', {colspan: 7, class: 'empty'}, d.data.error))); return; }
      const jobs = d.data.jobs;
      delayedInfo.textContent = d.data.total ? `${delayedOffset + 1}–${delayedOffset + jobs.length} of ${num(d.data.total)}` : '';
      const rows = jobs.map((j) => el('tr', {dataset: {job: j.id}},
        el('td', {}, jobLink(cls, j.id)),
        el('td', {dataset: {field: 'due_at', due: j.due_at}}, time(j.due_at), el('div', {class: 'hint'}, due(j.due_at, now))),
        el('td', {dataset: {field: 'state'}}, j.state ? badge(j.state) : el('span', {class: 'zero', title: 'no status hash'}, '–')),
        el('td', {class: 'num'}, num(j.attempts)),
        el('td', {}, el('div', {class: 'err-text', dataset: {field: 'error'}}, j.error || '')),
        el('td', {}, el('details', {}, el('summary', {}, 'show'), el('pre', {class: 'json'}, pretty(j.payload)))),
        el('td', {class: 'actions'},
          el('button', {class: 'small danger', dataset: {action: 'cancel', job: j.id}, onclick: (e) => {
            if (confirm('Cancel this delayed job?'))
              act(e.target, 'POST', `/api/jobs/${enc}/${encodeURIComponent(j.id)}/cancel`, undefined, () => `${j.id} cancelled`);
          }}, 'Cancel'))));
      replace(delayedBody, rows.length ? rows : el('tr', {}, el('td', {colspan: 7, class: 'empty'}, 'No delayed jobs.')));
      replace(delayedPager,
        delayedOffset > 0 ? el('button', {class: 'small', onclick: () => { delayedOffset = Math.max(0, delayedOffset - LIMIT); refresh(); }}, '← Sooner') : null,
        delayedOffset + LIMIT < d.data.total ? el('button', {class: 'small', onclick: () => { delayedOffset += LIMIT; refresh(); }}, 'Later →') : null);
    }

    async function refresh() {
      const [s, f, d] = await Promise.all([api('GET', '/api/stats'),
        api('GET', `/api/classes/${enc}/failed?offset=${offset}&limit=${LIMIT}`),
        api('GET', `/api/classes/${enc}/delayed?offset=${delayedOffset}&limit=${LIMIT}`)]);
      if (!s.ok) { setLive(false, s.data.error || 'unavailable'); return; }
      setLive(true, 'live · ' + new Date().toLocaleTimeString());
      const c = s.data.classes.find((k) => k.class === cls) ||
        {queued: 0, running: 0, delayed: 0, failed: 0, workers: 0, processed: 0, failed_total: 0, retried: 0, paused: null, per_minute: null};
      replace(cards,
        card('Queued', num(c.queued), 'queued'), card('Running', num(c.running), 'running'),
        card('Delayed', num(c.delayed), 'delayed'), card('Failed', num(c.failed), 'failed', c.failed > 0),
        card('Workers', num(c.workers), 'workers'), card('Done', num(c.processed), 'processed'),
        card('Retried', num(c.retried), 'retried'),
        card('Done/min', rate(c.per_minute && c.per_minute.processed), 'processed_pm'),
        card('Failed/min', rate(c.per_minute && c.per_minute.failed), 'failed_pm'));
      replace(plotBox, c.series ? sparkline(c.series, cls, 720, 120) : el('p', {class: 'hint'}, 'No jobs yet.'));
      if (c.paused) {
        replace(pauseBox, badge('paused'), el('span', {dataset: {field: 'paused'}}, pausedText(c.paused)),
          pauseButtons(cls, c.paused));
      } else {
        replace(pauseBox, el('span', {class: 'hint'}, 'Workers are taking jobs.'), reason, duration,
          el('button', {class: 'small', dataset: {action: 'pause', class: cls}, onclick: (e) => act(e.target, 'POST',
            `/api/classes/${enc}/pause`, {reason: reason.value.trim() || 'paused from the dashboard', seconds: Number(duration.value)},
            () => `${cls} paused`)}, 'Pause'));
      }
      showDelayed(d, s.data.now);
      if (!f.ok) { replace(failedBody, el('tr', {}, el('td', {colspan: 6, class: 'empty'}, f.data.error))); return; }
      const jobs = f.data.jobs;
      failedInfo.textContent = f.data.total ? `${offset + 1}–${offset + jobs.length} of ${num(f.data.total)}` : '';
      const rows = jobs.map((j) => el('tr', {dataset: {job: j.id}},
        el('td', {}, jobLink(cls, j.id)),
        el('td', {}, el('div', {class: 'err-text', dataset: {field: 'error'}}, j.error === null ? '(status expired)' : j.error)),
        el('td', {class: 'num'}, num(j.attempts)),
        el('td', {}, j.finished_at ? time(j.finished_at) : '–'),
        el('td', {}, el('details', {}, el('summary', {}, 'show'), el('pre', {class: 'json'}, pretty(j.payload)))),
        el('td', {class: 'actions'},
          el('button', {class: 'small', dataset: {action: 'retry', job: j.id}, onclick: (e) => act(e.target, 'POST',
            `/api/classes/${enc}/failed/${encodeURIComponent(j.id)}/retry`, undefined, () => `${j.id} is queued again`)}, 'Retry'),
          el('button', {class: 'small danger', dataset: {action: 'delete', job: j.id}, onclick: (e) => {
            if (confirm('Delete this failed job for good?'))
              act(e.target, 'POST', `/api/classes/${enc}/failed/${encodeURIComponent(j.id)}/delete`, undefined, () => `${j.id} deleted`);
          }}, 'Delete'))));
      replace(failedBody, rows.length ? rows : el('tr', {}, el('td', {colspan: 6, class: 'empty'}, 'No failed jobs.')));
      replace(pager,
        offset > 0 ? el('button', {class: 'small', onclick: () => { offset = Math.max(0, offset - LIMIT); refresh(); }}, '← Newer') : null,
        offset + LIMIT < f.data.total ? el('button', {class: 'small', onclick: () => { offset += LIMIT; refresh(); }}, 'Older →') : null);
    }
    return poll(refresh, 3000);
  }

  /* A progress bar, its line of text, and a function to show a status. */
  function progressView() {
    const fill = el('div');
    const bar = el('div', {class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100}, fill);
    const state = el('span', {dataset: {field: 'state'}}, '');
    const message = el('span', {dataset: {field: 'message'}}, '');
    const view = el('div', {}, bar, el('div', {class: 'progress-line'}, message, state));
    function show(st) {
      const pct = Math.max(0, Math.min(100, Number(st.progress || 0)));
      fill.style.width = pct + '%';
      bar.setAttribute('aria-valuenow', pct);
      bar.className = 'progress' + (st.state === 'done' ? ' done' : FINAL.has(st.state) ? ' failed' : '');
      replace(state, badge(st.state || 'unknown'), ' ', pct + '%');
      message.textContent = st.state === 'failed' || st.state === 'retrying' ? (st.error || st.message || '')
        : st.message || (st.state === 'queued' ? 'waiting for a worker' : '');
    }
    return {view, show};
  }

  function imageUrlOf(st) {
    try {
      const out = JSON.parse(st.result || '{}').output;
      if (typeof out === 'string' && /\.(gif|png|jpe?g|webp)$/i.test(out)) return '/outputs/' + out.split('/').map(encodeURIComponent).join('/');
    } catch (e) { /* not JSON */ }
    return null;
  }

  function jobPage(main, cls, id) {
    const progress = progressView();
    const fields = el('dl', {class: 'fields', id: 'status-fields'});
    const extra = el('div');
    const followNote = el('span', {class: 'hint'}, 'following live');
    const cancel = el('button', {class: 'danger small', dataset: {action: 'cancel'}, onclick: (e) =>
      act(e.target, 'POST', `/api/jobs/${encodeURIComponent(cls)}/${encodeURIComponent(id)}/cancel`, undefined,
        (d) => d.result === 'cancelled' ? 'cancelled' : 'cancel requested: the worker stops it')}, 'Cancel');
    replace(main,
      el('h1', {}, 'Job ', el('span', {class: 'mono'}, id)),
      el('p', {class: 'sub'}, el('a', {href: '/classes/' + encodeURIComponent(cls)}, '← ' + cls)),
      el('section', {class: 'panel'}, el('div', {class: 'panel-head'}, el('h2', {}, 'Progress'), followNote,
        el('div', {class: 'tools'}, cancel)), progress.view),
      el('section', {class: 'panel'}, el('h2', {}, 'Status'), fields, extra));
    const order = ['state', 'progress', 'message', 'attempts', 'worker', 'queued_at', 'due_at', 'started_at',
      'finished_at', 'next_retry_at', 'cancel', 'error'];
    function show(st) {
      progress.show(st);
      cancel.hidden = FINAL.has(st.state);
      const keys = order.filter((k) => k in st).concat(Object.keys(st).filter((k) => !order.includes(k) && k !== 'result').sort());
      replace(fields, keys.map((k) => [el('dt', {}, k.replace(/_/g, ' ')),
        el('dd', {dataset: {field: k}, class: k === 'error' ? 'err-text' : ''},
          /_at$/.test(k) ? time(st[k]) + ' (' + ago(st[k]) + ')' : st[k])]));
      const url = st.state === 'done' ? imageUrlOf(st) : null;
      replace(extra,
        st.result ? [el('h2', {}, 'Result'), el('pre', {class: 'json'}, pretty(st.result))] : null,
        url ? el('p', {}, el('img', {src: url, alt: 'output of ' + id, class: 'output-img'})) : null);
    }
    setLive(true, 'following the job');
    const f = follow(cls, id, show, (st, err) => {
      if (st && st.state === 'gone') followNote.textContent = 'the status has expired or was deleted';
      else if (err) { followNote.textContent = err; setLive(false, err); }
      else { show(st); followNote.textContent = 'finished'; }
      if (!err) setLive(true, 'finished · ' + new Date().toLocaleTimeString());
    });
    return {stop() { f.close(); }};
  }

  function demo(main) {
    const gifText = el('input', {type: 'text', id: 'demo-text', value: 'Hello', maxlength: 60, 'aria-label': 'text'});
    const gifProgress = progressView();
    const gifOut = el('div', {class: 'output', id: 'demo-gif-output'});
    const gifJob = el('p', {class: 'hint', id: 'demo-gif-job'});
    const file = el('input', {type: 'file', id: 'demo-file', accept: 'image/jpeg,image/png,image/gif,image/webp'});
    const upProgress = progressView();
    const upOut = el('div', {class: 'output', id: 'demo-thumb-output'});
    const upJob = el('p', {class: 'hint'});
    const warn = el('div');
    const follows = [];

    function run(r, progress, out, jobLine) {
      if (!r.ok) { notice(r.data.error || 'failed', 'error'); return; }
      const {id, url} = r.data;
      replace(jobLine, 'job ', jobLink(r.data.class, id), ' · output ', el('code', {}, r.data.output));
      replace(out);
      progress.show({state: 'queued', progress: 0});
      follows.push(follow(r.data.class, id, progress.show, (st, err) => {
        if (err) { notice(err, 'error'); return; }
        progress.show(st);
        if (st.state === 'done') {
          const src = imageUrlOf(st) || url;
          const img = el('img', {src, alt: 'the finished image', id: out.id + '-img'});
          img.addEventListener('error', () => replace(out, el('p', {class: 'hint'},
            'The job is done but left no image at ', el('code', {}, r.data.output),
            ': is drudge-image the worker serving ImageJob?')));
          replace(out, img);
        } else {
          replace(out, el('p', {class: 'err-text'}, st.error || st.state));
        }
      }));
    }

    replace(main,
      el('h1', {}, 'Demo'),
      el('p', {class: 'sub'}, 'The talk\'s demo, end to end: the page asks for slow work, a worker does it, and the page follows the job\'s live status over Server-Sent Events.'),
      warn,
      el('div', {class: 'demo'},
        el('section', {class: 'panel'},
          el('h2', {}, 'Animated text GIF'),
          el('form', {class: 'row', id: 'demo-gif-form', onsubmit: async (e) => {
            e.preventDefault();
            const b = e.target.querySelector('button');
            b.disabled = true;
            run(await api('POST', '/api/demo/text-gif', {text: gifText.value}), gifProgress, gifOut, gifJob);
            b.disabled = false;
          }}, gifText, el('button', {class: 'primary', type: 'submit'}, 'Make the GIF')),
          el('div', {class: 'mt'}, gifProgress.view), gifJob, gifOut,
          el('ol', {class: 'steps'},
            el('li', {}, 'POST /api/demo/text-gif pushes ', el('code', {}, '{"op_set":"text_gif", …}'), ' onto the ImageJob queue'),
            el('li', {}, 'a drudge-image worker renders the frames and reports its progress as it goes'),
            el('li', {}, 'this page follows /api/jobs/ImageJob/<id>/events and shows the GIF when it is done'))),
        el('section', {class: 'panel'},
          el('h2', {}, 'Thumbnail an upload'),
          el('form', {class: 'row', id: 'demo-upload-form', onsubmit: async (e) => {
            e.preventDefault();
            if (!file.files.length) { notice('choose an image first', 'error'); return; }
            const b = e.target.querySelector('button');
            b.disabled = true;
            run(await api('POST', '/api/demo/upload', file.files[0]), upProgress, upOut, upJob);
            b.disabled = false;
          }}, file, el('button', {class: 'primary', type: 'submit'}, 'Upload')),
          el('div', {class: 'mt'}, upProgress.view), upJob, upOut,
          el('p', {class: 'hint'}, 'JPEG, PNG, GIF or WebP up to 10 MiB; the format is read from the file\'s bytes, and the worker checks it again.'))));

    api('GET', '/api/stats').then((r) => {
      if (!r.ok) { setLive(false, r.data.error || 'unavailable'); return; }
      setLive(true, 'ready');
      const c = r.data.classes.find((k) => k.class === 'ImageJob');
      if (!c || !c.workers)
        replace(warn, el('div', {class: 'notice'}, 'No ImageJob worker is running: jobs will wait in the queue until one starts (drudge-image).'));
    });
    return {stop() { follows.forEach((f) => f.close()); }};
  }

  // ---- routing ----

  const routes = [
    [/^\/$/, 'overview', (m) => overview(m)],
    [/^\/workers$/, 'workers', (m) => workers(m)],
    [/^\/classes\/([^/]+)$/, 'overview', (m, g) => classPage(m, decodeURIComponent(g[1]))],
    [/^\/jobs\/([^/]+)\/([^/]+)$/, 'overview', (m, g) => jobPage(m, decodeURIComponent(g[1]), decodeURIComponent(g[2]))],
    [/^\/demo$/, 'demo', (m) => demo(m)],
  ];

  function start() {
    readTokenFromAddress();
    updateTokenButton();
    document.getElementById('token-button').addEventListener('click', () => askToken());
    const main = document.getElementById('main');
    for (const [re, nav, view] of routes) {
      const g = location.pathname.match(re);
      if (!g) continue;
      for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === nav);
      document.title = (nav === 'overview' && g[1] ? decodeURIComponent(g[1]) : nav[0].toUpperCase() + nav.slice(1)) + ' · drudge';
      current = view(main, g);
      window.addEventListener('pagehide', () => { if (current && current.stop) current.stop(); });
      return;
    }
    replace(main, el('h1', {}, 'Not found'));
  }

  start();
  window.drudge = {clearNotice};
})();
