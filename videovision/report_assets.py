"""The HTML report's own stylesheet and script (:mod:`videovision.report` inlines both and puts their
SHA-256 hashes in the page's Content-Security-Policy, so nothing else runs or styles it).

The style has light and dark colours (``prefers-color-scheme``) and a print layout; the script seeks
the player to a clicked ``#t=`` time, shows the frame the model saw nearest to it, and moves the
playhead on the timeline.
"""

STYLE = """
:root{--bg:#fff;--fg:#1b1d21;--muted:#5d6470;--line:#d8dce3;--card:#f4f6f9;--link:#0b5cd5;--bad:#a8200d;
--hit:#f0a800;--s0:#9fb7d9;--s1:#c5d3e8;--c0:#8cc7a1;--c1:#b9dec6;--tick:#5d6470;--ok:#0b5cd5}
@media (prefers-color-scheme:dark){:root{--bg:#15171b;--fg:#e6e8ec;--muted:#9aa2ae;--line:#343943;--card:#1f2228;
--link:#7ab1ff;--bad:#ff8a73;--hit:#ffc53d;--s0:#3c5378;--s1:#2c3c57;--c0:#2f6b45;--c1:#244f35;--tick:#9aa2ae;
--ok:#7ab1ff}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;
overflow-wrap:anywhere}
header{padding:12px 16px;border-bottom:1px solid var(--line)}
h1{font-size:1.25rem;margin:0}h2{font-size:1.1rem;margin:1.4em 0 .5em}h3{font-size:1rem}
.meta,.count,.axis,figcaption,.note{color:var(--muted);font-size:.875rem}
main{display:grid;grid-template-columns:minmax(0,1fr);gap:0 24px;padding:0 16px 32px;max-width:1400px;margin:auto}
.stage{position:sticky;top:0;z-index:2;background:var(--bg);padding:8px 0;align-self:start}
video{display:block;width:100%;max-height:34vh;background:#000;border-radius:6px}
.content{min-width:0}
@media (min-width:900px){main{grid-template-columns:minmax(0,5fr) minmax(0,6fr)}.stage{padding-top:16px}
video{max-height:70vh}}
a{color:var(--link)}
a.t{font-variant-numeric:tabular-nums;white-space:nowrap}
a.unsupported{color:var(--bad);text-decoration-style:dashed}
.mark{font-size:.8em;font-weight:600}
.outside{color:var(--muted);text-decoration:line-through}
.outside .mark{text-decoration:none;display:inline-block}
.tag{font-size:.75em;border:1px solid var(--line);border-radius:4px;padding:0 4px}
.warn{color:var(--bad)}
pre{overflow-x:auto;max-width:100%;background:var(--card);padding:8px;border-radius:6px}
code{font-size:.9em}
.moments,.chapters,.speech{padding-left:1.2em}
.speech{list-style:none;padding:0}.speech li{margin:.2em 0}.who{font-weight:600}
.strip{list-style:none;padding:0;margin:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(112px,1fr));gap:8px}
figure{margin:0;padding:3px;border:2px solid transparent;border-radius:6px;background:var(--card)}
figure img{display:block;width:100%;height:auto;border-radius:3px}
figure.hit{border-color:var(--hit);box-shadow:0 0 0 2px var(--hit)}
figcaption{font-variant-numeric:tabular-nums}
.ocr{margin:.2em 0 0;font-size:.75rem;white-space:pre-line;overflow-wrap:anywhere;max-height:8em;overflow:auto}
.scene{white-space:nowrap}
#seen{display:flex;gap:8px;align-items:center;margin:6px 0 0;font-size:.875rem;color:var(--muted)}
#seen[hidden]{display:none}
#seen img{width:96px;height:auto;border:2px solid var(--hit);border-radius:4px}
.timeline{display:block;width:100%;height:64px;background:var(--card);border-radius:4px}
.timeline .s0{fill:var(--s0)}.timeline .s1{fill:var(--s1)}.timeline .c0{fill:var(--c0)}.timeline .c1{fill:var(--c1)}
.timeline .tick{fill:var(--tick)}.timeline .cited{fill:var(--ok)}.timeline .unsupported{fill:var(--bad)}
#playhead{fill:var(--hit)}
.axis{display:flex;justify-content:space-between;gap:8px;margin:2px 0}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:0;font-size:.8rem;color:var(--muted)}
.k::before{content:"";display:inline-block;width:.75em;height:.75em;margin-right:4px;border-radius:2px}
.k-scene::before{background:var(--s0)}.k-chapter::before{background:var(--c0)}.k-tick::before{background:var(--tick);width:2px}
.k-cited::before{background:var(--ok)}.k-bad::before{background:var(--bad)}
.plan{display:grid;grid-template-columns:minmax(0,auto) minmax(0,1fr);gap:2px 12px;margin:0}
.plan dt{color:var(--muted)}.plan dd{margin:0;font-variant-numeric:tabular-nums}
@media print{.stage,#timeline #playhead{display:none}main{display:block}a{color:inherit;text-decoration:none}
figure{break-inside:avoid}.strip{grid-template-columns:repeat(4,1fr)}details>*{display:block}
body{font-size:11pt}}
"""

SCRIPT = """
(function () {
  "use strict";
  var player = document.getElementById("player");
  var note = document.getElementById("video-note");
  var seen = document.getElementById("seen");
  var playhead = document.getElementById("playhead");
  var lit = null, pending = null;
  function timeOf(href) {
    var m = /^#t=(?:npt:)?(\\d+(?:\\.\\d+)?)/.exec(href || "");
    return m ? parseFloat(m[1]) : null;
  }
  function nearest(t) {
    var best = null, gap = Infinity;
    document.querySelectorAll("figure[data-times]").forEach(function (f) {
      f.getAttribute("data-times").split(" ").forEach(function (s) {
        var d = Math.abs(parseFloat(s) - t);
        if (d < gap) { gap = d; best = f.id; }
      });
    });
    return best;
  }
  function highlight(id, t) {
    if (lit) { lit.classList.remove("hit"); }
    lit = id ? document.getElementById(id) : null;
    if (!lit) { seen.hidden = true; return; }
    lit.classList.add("hit");
    seen.querySelector("img").src = lit.querySelector("img").src;
    seen.querySelector("span").textContent = label(t) + " \\u2014 the model saw the frame at " +
      lit.querySelector("figcaption").firstChild.textContent;
    seen.hidden = false;
  }
  function label(t) {
    var m = Math.floor(t / 60), s = (t - 60 * m).toFixed(1);
    return (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }
  function seek(t, id) {
    highlight(id, t);
    if (!player) { return; }
    if (player.readyState >= 1) { player.currentTime = t; } else { pending = t; }
  }
  function fromHash() {
    var t = timeOf(location.hash);
    if (t !== null) { seek(t, nearest(t)); }
  }
  function cannotPlay() { note.hidden = false; }
  if (player) {
    player.addEventListener("loadedmetadata", function () {
      if (pending !== null) { player.currentTime = pending; pending = null; }
    });
    player.addEventListener("error", cannotPlay);
    player.addEventListener("timeupdate", function () {
      if (playhead && player.duration) {
        playhead.setAttribute("x", String(1000 * player.currentTime / player.duration));
      }
    });
    var mime = player.getAttribute("data-mime");
    if (player.error || (mime && player.canPlayType(mime) === "")) { cannotPlay(); }
  }
  document.addEventListener("click", function (event) {
    var a = event.target.closest ? event.target.closest("a") : null;
    if (!a) { return; }
    var href = a.getAttribute("href") || a.getAttribute("xlink:href");
    var t = timeOf(href);
    if (t === null) { return; }
    event.preventDefault();
    seek(t, a.getAttribute("data-frame") || nearest(t));
    try { history.replaceState(null, "", href); } catch (err) { /* file: URLs may refuse */ }
  });
  window.addEventListener("hashchange", fromHash);
  fromHash();
}());
"""
