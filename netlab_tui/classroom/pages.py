"""The class's own HTML: the learners' login page, the teacher's login page and the live dashboard.

Self-contained pages (no external fonts or scripts): they work on a classroom network with no Internet.
"""

from __future__ import annotations

from html import escape

_STYLE = """
:root { color-scheme: dark; }
body { margin: 0; background: #0c181f; color: #e6edf3; font: 15px/1.45 system-ui, sans-serif; }
main.card { max-width: 360px; margin: 12vh auto; background: #12232d; padding: 28px 32px; border-radius: 10px; }
h1 { font-size: 20px; margin: 0 0 4px; } p.sub { color: #8fa5b3; margin: 0 0 20px; }
label { display: block; margin: 12px 0 4px; color: #b7c6d0; }
input { width: 100%; box-sizing: border-box; padding: 9px 10px; border-radius: 6px; border: 1px solid #2d4656;
        background: #0c181f; color: #e6edf3; font-size: 15px; }
button { margin-top: 18px; width: 100%; padding: 10px; border: 0; border-radius: 6px; background: #5e0ba7;
         color: white; font-size: 15px; cursor: pointer; } button:hover { background: #7b2bc4; }
.error { background: #4a1720; color: #ffb4bd; padding: 8px 10px; border-radius: 6px; margin-bottom: 8px; }
"""


def _page(title: str, body: str, style: str = "") -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{escape(title)}</title>"
            f"<style>{_STYLE}{style}</style></head><body>{body}</body></html>")


def login_page(error: str = "", name: str = "") -> str:
    problem = f"<div class='error' role='alert'>{escape(error)}</div>" if error else ""
    return _page("netlab class — log in", f"""
<main class="card"><h1>netlab class</h1><p class="sub">Your own networking lab, in this browser.</p>
{problem}<form method="post" action="/login">
<label for="name">Your name</label>
<input id="name" name="name" value="{escape(name)}" maxlength="32" autocomplete="username" required autofocus>
<label for="code">Class code</label>
<input id="code" name="code" autocomplete="off" autocapitalize="characters" required>
<button type="submit">Join the class</button></form></main>""")


def teacher_login_page(error: str = "") -> str:
    problem = f"<div class='error' role='alert'>{escape(error)}</div>" if error else ""
    return _page("netlab class — teacher", f"""
<main class="card"><h1>Teacher</h1><p class="sub">The password printed when the class started.</p>
{problem}<form method="post" action="/teacher/login">
<label for="password">Teacher password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open the dashboard</button></form></main>""")


def message_page(title: str, text: str) -> str:
    return _page(title, f"<main class='card'><h1>{escape(title)}</h1><p>{escape(text)}</p>"
                        "<p><a href='/' style='color:#c39bff'>Back to the login page</a></p></main>")


_DASH_STYLE = """
body { padding: 18px 24px; } h1 { font-size: 20px; margin: 0; }
header { display: flex; gap: 18px; align-items: baseline; flex-wrap: wrap; margin-bottom: 14px; }
header .meta { color: #8fa5b3; } #stale { color: #ffb4bd; }
table { border-collapse: collapse; } th, td { padding: 5px 8px; border-bottom: 1px solid #1f3543; text-align: left; }
th { color: #8fa5b3; font-weight: 600; white-space: nowrap; }
th.lab { writing-mode: vertical-rl; transform: rotate(180deg); max-height: 170px; vertical-align: bottom;
         font-weight: 500; font-size: 13px; text-align: left; }
td.name { font-weight: 600; white-space: nowrap; } td.num, td.when { color: #b7c6d0; white-space: nowrap; }
.dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; margin-right: 6px; background: #3b4d59; }
.dot.on { background: #3fb950; }
.steps { display: flex; gap: 2px; } .s { width: 10px; height: 16px; border-radius: 2px; background: #243b4a; }
.s.p { background: #3fb950; } .s.c { background: #d29922; outline: 2px solid #f2cc60; }
.done .s.p { background: #2ea043; } td.cell { min-width: 40px; }
.legend { color: #8fa5b3; font-size: 13px; display: flex; gap: 14px; margin-top: 12px; align-items: center; }
.legend .s { display: inline-block; vertical-align: middle; margin-right: 4px; }
.empty { color: #8fa5b3; padding: 30px 0; }
button.quiet { margin: 0; width: auto; padding: 4px 12px; background: #1f3543; font-size: 13px; }
"""

_DASH_SCRIPT = r"""
const table = document.getElementById('grid'), meta = document.getElementById('meta'), stale = document.getElementById('stale');
const esc = s => String(s).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
function ago(t) { if (!t) return '—'; const s = Math.max(0, Math.round(Date.now()/1000 - t));
  return s < 60 ? s + ' s ago' : s < 3600 ? Math.round(s/60) + ' min ago' : new Date(t*1000).toLocaleTimeString(); }
function stepTitle(lab, id) { const s = lab.steps.find(x => x.id === id); return s ? s.title : id; }
function draw(data) {
  const started = new Set(); data.learners.forEach(l => Object.keys(l.labs).forEach(id => started.add(id)));
  const labs = data.labs.filter(l => started.has(l.id));
  const online = data.learners.filter(l => l.online).length;
  meta.textContent = `${data.learners.length} learners · ${online} online · updated ${new Date(data.generated*1000).toLocaleTimeString()}`;
  if (!data.learners.length) { table.innerHTML = '<tr><td class="empty">No learner has joined yet.</td></tr>'; return; }
  let html = '<tr><th>Learner</th><th>Last activity</th><th>Hints</th><th>Current step</th>' +
    labs.map(l => `<th class="lab" title="${esc(l.title)}">${esc(l.id)}</th>`).join('') + '</tr>';
  for (const learner of data.learners) {
    let current = '—', latest = -1;
    for (const lab of labs) { const r = learner.labs[lab.id]; if (r && r.current && !r.completed) {
      const t = Math.max(0, ...Object.values(r.passed_at || {})); if (t >= latest) { latest = t; current = `${lab.title}: ${stepTitle(lab, r.current)}`; } } }
    html += `<tr data-learner="${esc(learner.key)}"><td class="name"><span class="dot ${learner.online ? 'on' : ''}"></span>${esc(learner.name)}</td>` +
      `<td class="when">${ago(learner.last_activity)}</td><td class="num">${learner.hints_used}</td><td>${esc(current)}</td>`;
    for (const lab of labs) {
      const r = learner.labs[lab.id];
      if (!r) { html += '<td class="cell"></td>'; continue; }
      const passed = new Set(r.passed);
      const cells = lab.steps.map(s => `<span class="s ${passed.has(s.id) ? 'p' : s.id === r.current ? 'c' : ''}" title="${esc(s.title)}${passed.has(s.id) ? ' — passed' : s.id === r.current ? ' — current' : ''}"></span>`).join('');
      html += `<td class="cell ${r.completed ? 'done' : ''}" title="${passed.size}/${lab.steps.length} steps, ${r.hints_used} hints"><div class="steps">${cells}</div></td>`;
    }
    html += '</tr>';
  }
  table.innerHTML = html;
}
async function tick() {
  try { const r = await fetch('/teacher/progress.json', {cache: 'no-store'});
    if (r.status === 401 || r.status === 403) { location.reload(); return; }
    draw(await r.json()); stale.textContent = ''; }
  catch (e) { stale.textContent = 'server unreachable — retrying'; }
  setTimeout(tick, 1000);
}
tick();
"""


def dashboard_page(learner_url: str, code: str) -> str:
    return _page("netlab class — dashboard", f"""
<header><h1>netlab class</h1><span class="meta">learners join at <b>{escape(learner_url)}</b> with code
<b>{escape(code)}</b></span><span class="meta" id="meta"></span><span id="stale"></span>
<form method="post" action="/teacher/logout" style="margin-left:auto"><button class="quiet" type="submit">Log out</button>
</form></header>
<table id="grid"></table>
<div class="legend"><span><span class="s p"></span>passed</span><span><span class="s c"></span>current step</span>
<span><span class="s"></span>not yet</span><span><span class="dot on"></span>online</span></div>
<script>{_DASH_SCRIPT}</script>""", _DASH_STYLE)
