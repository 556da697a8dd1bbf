// The UI's words (issue 21): gettext/ngettext/interpolate come from Django's JavaScript
// catalog (/jsi18n/<language>/, loaded first by base.html); English if it is missing.
if (!window.gettext) {
  window.gettext = function (s) { return s; };
  window.ngettext = function (s, p, n) { return n === 1 ? s : p; };
  window.interpolate = function (f, o) {
    return f.replace(/%\((\w+)\)s/g, function (m, k) { return String(o[k]); });
  };
}

// Reply counter: X's weighted length (twitter-text v3) of the text WITH the credit,
// exactly as the server counts it. Send is disabled past 280. Screen readers hear it only
// when its state changes (20 left, over the limit, back under), not at every keystroke:
// the visible <output> is not live; [data-counter-say] is.
(function () {
  "use strict";
  var LIMIT = 280;
  var NEAR = 20;

  function state(left) { return left < 0 ? "over" : left <= NEAR ? "near" : "ok"; }

  function update(output) {
    var box = document.getElementById(output.dataset.counterFor);
    if (!box) return;
    var parsed = window.twttr.parseTweet(box.value.trim() + output.dataset.credit);
    var left = LIMIT - parsed.weightedLength;
    output.textContent = interpolate(gettext("%(left)s left"), { left: left }, true);
    output.classList.toggle("over", left < 0);
    var now = state(left);
    var say = document.querySelector('[data-counter-say="' + output.dataset.counterFor + '"]');
    if (say && output.dataset.state && output.dataset.state !== now) {
      say.textContent = now === "over"
        ? interpolate(ngettext("%(n)s character over the limit: shorten the reply to send it.", "%(n)s characters over the limit: shorten the reply to send it.", -left), { n: -left }, true)
        : now === "near" ? interpolate(ngettext("%(n)s character left.", "%(n)s characters left.", left), { n: left }, true)
        : gettext("Back under the limit.");
    }
    output.dataset.state = now;
    if (!box.form) return;
    var sends = box.form.querySelectorAll("button[data-busy]");
    if (!sends.length) sends = [box.form.querySelector("button[type=submit]")];
    sends.forEach(function (send) {
      if (send) send.disabled = left < 0 || box.value.trim() === "";
    });
  }

  function wire(root) {
    root.querySelectorAll("output[data-counter-for]").forEach(function (output) {
      var box = document.getElementById(output.dataset.counterFor);
      if (!box || box.dataset.wired) return;
      box.dataset.wired = "1";
      box.addEventListener("input", function () { update(output); });
      update(output);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSettle", function (event) { wire(event.target); });
})();

// The reply box: focused on arrival at a thread just claimed, the caret after the
// customer's @handle; Send and Send & close say "Sending..." and refuse a second click
// until the server answers (the client_token makes a second post harmless anyway).
(function () {
  "use strict";
  function focusReply() {
    var form = document.querySelector("#reply-form[data-autofocus]");
    var box = form && form.querySelector("textarea[name=text]");
    if (!box || document.querySelector("dialog[open]")) return;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  function busy(form, submitter) {
    form.querySelectorAll("button[data-busy]").forEach(function (button) {
      if (button === submitter) {
        button.dataset.label = button.textContent;
        button.textContent = button.dataset.busy;
      }
      button.disabled = true;
    });
    form.setAttribute("aria-busy", "true");
  }

  function idle(form) {
    form.querySelectorAll("button[data-busy]").forEach(function (button) {
      if (button.dataset.label) { button.textContent = button.dataset.label; delete button.dataset.label; }
      button.disabled = false;
    });
    form.removeAttribute("aria-busy");
  }

  // htmx posts the reply form: mark it busy once the request is on its way.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    if (!form || form.id !== "reply-form") return;
    var submitter = event.detail.requestConfig && event.detail.requestConfig.triggeringEvent &&
      event.detail.requestConfig.triggeringEvent.submitter;
    busy(form, submitter || form.querySelector("button[data-busy]"));
  });
  // A refused request (network, 5xx) gives the buttons back; a success replaces the form.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.id === "reply-form" && !event.detail.successful) idle(form);
  });
  document.addEventListener("DOMContentLoaded", focusReply);
})();

// Canned answers: "/" (outside a text field) or Ctrl/Cmd+"/" (anywhere, the reply box
// included) opens the picker; its search asks the server (htmx), which has already filled
// {customer} and {agent}; Enter or a click inserts the answer where the cursor was.
(function () {
  "use strict";
  var caret = null;

  function replyBox() { return document.querySelector("#reply-form textarea[name=text]"); }

  function open() {
    var dialog = document.getElementById("canned-dialog");
    var box = replyBox();
    if (!dialog || !box) return false;
    caret = [box.selectionStart, box.selectionEnd];
    var input = document.getElementById("canned-q");
    input.value = "";
    pendingEnter = false;
    if (!dialog.open) dialog.showModal();
    input.focus();
    window.htmx.trigger(input, "search");
    return true;
  }

  function insert(text) {
    var dialog = document.getElementById("canned-dialog");
    var box = replyBox();
    if (dialog && dialog.open) dialog.close();
    if (!box) return;
    var at = caret || [box.value.length, box.value.length];
    box.focus();
    box.setRangeText(text, at[0], at[1], "end");
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }

  var pendingEnter = false;

  function fresh(dialog, input) {
    var list = dialog.querySelector(".canned-results");
    return list && list.dataset.q === input.value.trim();
  }

  window.twelpCanned = { open: open, insert: insert };

  document.addEventListener("htmx:afterSettle", function (event) {
    var dialog = document.getElementById("canned-dialog");
    if (!pendingEnter || !dialog || !dialog.open || event.target.id !== "canned-results") return;
    if (!fresh(dialog, document.getElementById("canned-q"))) return;
    pendingEnter = false;
    var first = dialog.querySelector(".canned-pick");
    if (first) insert(first.dataset.text);
  });

  document.addEventListener("click", function (event) {
    var pick = event.target.closest(".canned-pick");
    if (pick && pick.closest("#canned-dialog")) { insert(pick.dataset.text); return; }
    var opener = event.target.closest("[data-canned-open]");
    if (opener && open()) event.preventDefault();
  });

  document.addEventListener("keydown", function (event) {
    var dialog = document.getElementById("canned-dialog");
    if (dialog && dialog.open && event.target.id === "canned-q") {
      var first = dialog.querySelector(".canned-pick");
      if (event.key === "Enter") {
        event.preventDefault();
        // The results may still be those of an earlier search: ask now, insert on arrival.
        if (fresh(dialog, event.target)) { if (first) insert(first.dataset.text); }
        else { pendingEnter = true; window.htmx.trigger(event.target, "search"); }
      }
      if (event.key === "ArrowDown" && first) { event.preventDefault(); first.focus(); }
      return;
    }
    if (dialog && dialog.open && event.target.classList.contains("canned-pick")) {
      var item = event.target.closest("li");
      var next = event.key === "ArrowDown" ? item.nextElementSibling : event.key === "ArrowUp" ? item.previousElementSibling : null;
      if (next && next.querySelector(".canned-pick")) { event.preventDefault(); next.querySelector(".canned-pick").focus(); }
      return;
    }
    if (event.key === "/" && (event.ctrlKey || event.metaKey) && open()) event.preventDefault();
  });
})();

// Keyboard shortcuts for the whole loop. Each action is a button or link on the page
// carrying data-key; a key press clicks it, so a shortcut does exactly what the mouse
// does (same form, same CSRF token, same server checks). "?" lists them.
(function () {
  "use strict";
  var KEYS = [
    ["n", gettext("Claim the next thread")],
    ["c", gettext("Claim this thread")],
    ["r", gettext("Focus the reply box")],
    ["/", gettext("Search; on a thread page: canned answers (Ctrl/⌘ + / while typing)")],
    ["Ctrl/⌘ + Enter", gettext("Send the reply")],
    ["e", gettext("Close the thread")],
    ["x", gettext("Release the thread")],
    ["Esc", gettext("Leave the text box; again: back to the queue")],
    ["?", gettext("Show this list")],
  ];

  function help() {
    var dialog = document.getElementById("shortcuts-help");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "shortcuts-help";
      dialog.setAttribute("aria-label", gettext("Keyboard shortcuts"));
      var title = document.createElement("h2");
      title.textContent = gettext("Keyboard shortcuts");
      var list = document.createElement("dl");
      KEYS.forEach(function (pair) {
        var dt = document.createElement("dt");
        var kbd = document.createElement("kbd");
        kbd.textContent = pair[0];
        dt.appendChild(kbd);
        var dd = document.createElement("dd");
        dd.textContent = pair[1];
        list.appendChild(dt);
        list.appendChild(dd);
      });
      var close = document.createElement("p");
      close.className = "meta";
      close.textContent = gettext("Esc closes this list.");
      dialog.append(title, list, close);
      document.body.appendChild(dialog);
    }
    dialog.showModal();
  }

  function visible(el) { return el && !el.disabled && el.offsetParent !== null; }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) return;
    if (document.querySelector("dialog[open]")) return; // the dialog has the keys; Esc closes it
    var mod = event.ctrlKey || event.metaKey;
    var field = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    // A field in a dialog that has just closed may keep the focus for a moment: a key
    // pressed then is meant for the page, not for the hidden field.
    if (field && field.offsetParent === null) field = null;
    if (field) {
      if (mod && event.key === "Enter" && field.form) {
        var send = field.form.querySelector('[data-key="mod+Enter"]');
        if (visible(send)) { event.preventDefault(); send.click(); }
      } else if (event.key === "Escape") {
        field.blur();
      }
      return;
    }
    if (mod || event.altKey) return;
    if (event.key === "?") { event.preventDefault(); help(); return; }
    if (event.key === "r") {
      var box = document.querySelector("#reply-form textarea[name=text]");
      if (box) { event.preventDefault(); box.focus(); box.setSelectionRange(box.value.length, box.value.length); }
      return;
    }
    var target = document.querySelector('[data-key="' + CSS.escape(event.key) + '"]');
    if (visible(target)) { event.preventDefault(); target.click(); return; }
    // "/" searches wherever it has no other use (the thread page's canned answers keep it).
    var search = event.key === "/" && document.getElementById("topbar-search");
    if (visible(search)) { event.preventDefault(); search.focus(); search.select(); }
  });
  // Said on the page once the shortcuts listen (browser tests wait for it before a key).
  document.documentElement.dataset.keys = "on";
})();

// Collision warnings ("Jane is viewing", "Jane is typing…") on the queue's rows and the
// thread page. Two sources, one painter: while the page's stream is open, its `viewers`
// events (JSON {thread: [[agent, label, typing], ...]}, the same for every page of the
// view: we leave ourselves out here); while it is down, the #viewers poll as before (the
// server leaves us out). The labels are painted again whenever the rows are swapped.
(function () {
  "use strict";
  var me = document.body && document.body.dataset.agent;
  var labels = {}; // thread id -> [{label, typing}]

  function threadIds() {
    return Array.prototype.map.call(
      document.querySelectorAll("#rows tr[data-thread-id]"),
      function (row) { return row.dataset.threadId; }
    ).join(",");
  }

  // The poll asks about the rows on screen; hx-vals="js:..." would need eval, which the
  // Content-Security-Policy refuses.
  document.addEventListener("htmx:configRequest", function (event) {
    if (event.detail.elt.id === "viewers") event.detail.parameters.t = threadIds();
  });

  // The rows are the same HTML for every agent (inbox.live.fragments): "held by me" is
  // marked here, from the queue's data-me (an inline <style> would need 'unsafe-inline').
  function markMine() {
    var queue = document.querySelector("[data-me]");
    if (!queue) return;
    document.querySelectorAll("#rows tr[data-thread-id]").forEach(function (row) {
      row.classList.toggle("mine", row.dataset.holder === queue.dataset.me);
    });
  }

  function paint() {
    markMine();
    document.querySelectorAll("[data-viewers-for]").forEach(function (cell) {
      var people = labels[cell.dataset.viewersFor] || [];
      cell.textContent = people.map(function (p) { return p.label; }).join(", ");
    });
    var box = document.querySelector("#viewers[data-viewers-thread]");
    if (!box || !box.dataset.fromStream) return;
    box.replaceChildren();
    (labels[box.dataset.viewersThread] || []).forEach(function (p, n) {
      if (n) box.append(", ");
      var span = document.createElement("span");
      span.className = "viewer" + (p.typing ? " typing" : "");
      span.textContent = p.label;
      box.append(span);
    });
  }

  // From the poll: the queue's hidden #viewers div holds one span per thread.
  function fromPoll(event) {
    var data = document.getElementById("viewers");
    if (!data || event.target !== data) { paint(); return; }
    delete data.dataset.fromStream;
    if (data.tagName !== "DIV") return; // the thread page's poll fills its box itself
    labels = {};
    data.querySelectorAll("[data-thread]").forEach(function (span) {
      labels[span.dataset.thread] = [{ label: span.textContent, typing: false }];
    });
    paint();
  }

  window.twelpViewers = function (json) {
    var found = JSON.parse(json);
    labels = {};
    Object.keys(found).forEach(function (thread) {
      var others = found[thread].filter(function (v) { return String(v[0]) !== me; });
      if (others.length) {
        labels[thread] = others.map(function (v) { return { label: v[1], typing: !!v[2] }; });
      }
    });
    var box = document.getElementById("viewers");
    if (box) box.dataset.fromStream = "1";
    paint();
  };
  window.twelpPaintViewers = paint;

  document.addEventListener("DOMContentLoaded", markMine);
  document.addEventListener("htmx:afterSettle", fromPoll);
})();

// What differs per employee in the parts a stream pushes (rendered once for everyone):
// [data-if] holds who may see an element, "everyone", "holder" (the employee in the
// closest [data-holder]), "author" (its data-author), "supervisors"; we show or hide it
// for this page's employee (body data-agent, data-supervisor).
(function () {
  "use strict";
  window.twelpApplyPersonal = function (root) {
    var me = document.body.dataset.agent;
    var supervisor = document.body.dataset.supervisor === "1";
    root.querySelectorAll("[data-if]").forEach(function (el) {
      var who = el.dataset.if.split(" ");
      var holder = el.closest("[data-holder]");
      el.hidden = !(
        who.indexOf("everyone") >= 0 ||
        (who.indexOf("supervisors") >= 0 && supervisor) ||
        (who.indexOf("holder") >= 0 && holder && holder.dataset.holder === me) ||
        (who.indexOf("author") >= 0 && el.dataset.author === me)
      );
    });
  };
  document.addEventListener("DOMContentLoaded", function () { window.twelpApplyPersonal(document); });
})();

// Waiting times on the page (<time datetime data-since>, the queue's rows) age here, in
// the words of the `waited` filter (inbox.templatetags.supervision: "just now", "4 min
// 5 s", "2 h 5 min"): the push process does not re-send a row only because its waiting
// time grew (inbox.live.patch).
(function () {
  "use strict";
  function duration(seconds) {
    var s = Math.round(seconds);
    if (s < 60) return s + " s";
    var m = Math.floor(s / 60), sec = s % 60;
    if (m < 60) return sec && m < 10 ? m + " min " + sec + " s" : m + " min";
    var h = Math.floor(m / 60);
    m %= 60;
    if (h < 24) return m ? h + " h " + m + " min" : h + " h";
    var d = Math.floor(h / 24);
    h %= 24;
    return h ? d + " d " + h + " h" : d + " d";
  }

  function age() {
    document.querySelectorAll("time[data-since]").forEach(function (el) {
      var at = new Date(el.getAttribute("datetime")).getTime();
      if (isNaN(at)) return;
      var seconds = (Date.now() - at) / 1000;
      var text = seconds < 60 ? gettext("just now") : duration(seconds);
      if (el.textContent !== text) el.textContent = text;
    });
  }
  window.twelpAge = age;
  setInterval(age, 5000);
})();

// 429 from the throttles (inbox.views.throttle) on an htmx request (the reply check, the
// viewers polls, typing): htmx swaps nothing, so the page keeps everything (a typed reply
// stays); the server's sentence is shown as a toast until its Retry-After is over.
(function () {
  "use strict";
  var timer = null;
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || xhr.status !== 429) return;
    var notice = document.getElementById("throttled");
    if (!notice) {
      // A toast of the design system (ui.js).
      notice = window.twelpToast("", "error");
      notice.id = "throttled";
    }
    notice.querySelector(".toast-text").textContent = (xhr.responseText || "Too many requests: please wait a moment.").slice(0, 400);
    var wait = parseInt(xhr.getResponseHeader("Retry-After"), 10);
    clearTimeout(timer);
    // Gone once the wait is over (a toast is display:flex: removed, not hidden).
    timer = setTimeout(function () { notice.remove(); }, 1000 * Math.min(wait > 0 ? wait : 10, 120));
  });
})();

// Live pages pushed over server-sent events (inbox.views.push). The element carrying
// data-push (the queue's #live, the dashboard's #dash, a hidden marker on the thread page)
// names its stream; each `live` message is one or more elements whose ids are on the page
// (the queue's #live; the thread page's status, banner, conversation, buttons): each
// replaces its namesake. After the first one, a change that touched only some rows or
// marked parts comes as a `patch` (inbox.live.patch: JSON, the changed parts by id, the
// changed rows and the new order of each data-rows container by key); one that does
// not apply (a part or row missing) makes us reconnect, and the stream sends the whole
// part again. `viewers` messages go to the collision warnings above; `notices` (the
// employee's unread notifications, issue 21) to the top bar's badge (ui.js).
// While the stream is open the htmx polls of [data-push] and [data-push-poll] elements
// are cancelled; when it cannot be opened, or has been down for more than GRACE ms, they
// run again as before, so a proxy that buffers costs only the push. `reload` (the change
// log no longer holds our last id): the parts are fetched again from the page's own URL
// (no reply box or other field is touched, so a draft is never lost), and a fresh stream
// is opened. Our own reconnections wait a jittered delay, so a restarted push process
// does not get every page back in the same second (the server also jitters `retry:`).
(function () {
  "use strict";
  var GRACE = 4000;
  var RETRY = 10000;
  var base = document.body && document.body.dataset.pushUrl;
  var first = document.querySelector("[data-push]");
  if (!base || !first || !window.EventSource) return;
  window.twelpPushOwner = true; // ui.js opens no stream of its own for the notifications
  var query = first.dataset.push;
  var source = null;
  // A page that says which change it shows (the thread page's data-push-since) resumes
  // from it: its stream sends nothing first when nothing touched it since.
  var lastId = first.dataset.pushSince || "";
  var live = false;
  var down = null;
  var parts = first.id ? [first.id] : []; // the ids our `live` messages replace

  function jitter(ms) { return Math.round(ms * (0.5 + Math.random())); }

  function setLive(value) {
    live = value;
    document.documentElement.dataset.push = value ? "live" : "polling";
  }

  function swap(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    var seen = [];
    Array.prototype.forEach.call(template.content.children, function (fresh) {
      var old = fresh.id && document.getElementById(fresh.id);
      if (!old) return;
      seen.push(fresh.id);
      window.htmx.swap(old, fresh.outerHTML, { swapStyle: "outerHTML" });
      var now = document.getElementById(fresh.id);
      if (now && window.twelpApplyPersonal) window.twelpApplyPersonal(now);
    });
    if (seen.length) parts = seen;
    if (window.twelpPaintViewers) window.twelpPaintViewers();
    document.dispatchEvent(new CustomEvent("twelp:live"));
  }

  var SVG = "http://www.w3.org/2000/svg";

  // One element from its HTML; in an <svg> container, parsed as SVG (<rect>, <text>).
  function fresh(html, box) {
    var template = document.createElement("template");
    var svg = box && box.namespaceURI === SVG;
    template.innerHTML = svg ? "<svg>" + html.trim() + "</svg>" : html.trim();
    var found = template.content.firstElementChild;
    return svg && found ? found.firstElementChild : found;
  }

  function settle(el) {
    window.htmx.process(el);
    if (window.twelpApplyPersonal) window.twelpApplyPersonal(el);
  }

  // A `patch`: false when it does not apply to what the page shows.
  function applyPatch(data) {
    var found = JSON.parse(data);
    var rows = found.rows || {};
    var parts = found.parts || {};
    var ready = [];
    var ok = Object.keys(parts).every(function (id) { return document.getElementById(id); }) &&
      Object.keys(rows).every(function (id) {
        var box = document.getElementById(id);
        if (!box) return false;
        var named = "data-" + (box.dataset.rows || "row");
        var have = {};
        Array.prototype.forEach.call(box.children, function (row) {
          have[row.getAttribute(named) || row.dataset.row] = row;
        });
        var order = rows[id].order || Object.keys(have);
        var next = [];
        for (var i = 0; i < order.length; i++) {
          var html = rows[id].html[order[i]];
          var row = html ? fresh(html, box) : have[order[i]];
          if (!row) return false;
          next.push([row, !!html]);
        }
        ready.push([box, next]);
        return true;
      });
    if (!ok) return false;
    Object.keys(parts).forEach(function (id) {
      window.htmx.swap(document.getElementById(id), parts[id], { swapStyle: "outerHTML" });
      var now = document.getElementById(id);
      if (now && window.twelpApplyPersonal) window.twelpApplyPersonal(now);
    });
    ready.forEach(function (pair) {
      pair[0].replaceChildren.apply(pair[0], pair[1].map(function (row) { return row[0]; }));
      pair[1].forEach(function (row) { if (row[1]) settle(row[0]); });
    });
    if (window.twelpPaintViewers) window.twelpPaintViewers();
    document.dispatchEvent(new CustomEvent("twelp:live"));
    return true;
  }

  // The parts as a fresh load of this page shows them, from the web (not the stream).
  function refetch() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        swap(parts.map(function (id) {
          var fresh = doc.getElementById(id);
          return fresh ? fresh.outerHTML : "";
        }).join(""));
      })
      .catch(function () { /* the web is down too: the polls take over */ });
  }

  function connect() {
    var url = base + "events/?" + query + "&patch=1&notices=1" + (lastId ? "&last_event_id=" + encodeURIComponent(lastId) : "");
    source = new EventSource(url, { withCredentials: true });
    source.onopen = function () { clearTimeout(down); down = null; setLive(true); };
    source.addEventListener("live", function (event) {
      lastId = event.lastEventId;
      swap(event.data);
    });
    source.addEventListener("patch", function (event) {
      var applied = false;
      try { applied = applyPatch(event.data); } catch (error) { applied = false; }
      if (applied) { lastId = event.lastEventId; return; }
      // Not applicable here: a new connection resumes from our last id with the whole part.
      source.close();
      setTimeout(connect, jitter(200));
    });
    source.addEventListener("viewers", function (event) {
      if (window.twelpViewers) window.twelpViewers(event.data);
    });
    source.addEventListener("notices", function (event) {
      if (window.twelpNotices) window.twelpNotices(event.data);
    });
    source.addEventListener("reload", function () {
      source.close();
      setLive(false);
      lastId = "";
      refetch().then(function () { setTimeout(connect, jitter(1000)); });
    });
    source.onerror = function () {
      if (down === null) down = setTimeout(function () { down = null; setLive(false); }, GRACE);
      // Refused (403, not an event stream): EventSource gives up; we try again later.
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, jitter(RETRY));
    };
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (live && (elt.hasAttribute("data-push") || elt.hasAttribute("data-push-poll"))) {
      event.preventDefault();
    }
  });
  setLive(false);
  connect();
})();

// "@kim wrote again" while the agent types (issue 15). The reply form is written against
// the newest message the page showed (its written_against); Send with an older one is
// held by the server (inbox.actions.NewerMessage). With the stream open the hold comes at
// once: when a pushed conversation (a `twelp:live` event, above) holds a message newer
// than that, the form shows the notice the server would, the new messages under it, and
// Send becomes "Send as it is"; the form is now written against the newest (the agent has
// it on screen), so Send confirms, as a second Send does after the server's hold. The
// agent's own answer, posted by the worker meanwhile, moves written_against silently.
// Handles and text are set as text, never as HTML (tweet text is untrusted).
(function () {
  "use strict";
  function newest(items) {
    return Math.max.apply(null, items.map(function (li) { return Number(li.dataset.message); }));
  }

  function notice(form, newer) {
    var fromCustomer = newer.filter(function (li) { return li.classList.contains("in"); });
    var said = fromCustomer.length
      ? interpolate(gettext("%(who)s wrote again: read it before sending."), { who: fromCustomer[fromCustomer.length - 1].dataset.by }, true)
      : interpolate(gettext("%(who)s posted meanwhile: read it before sending."), { who: newer[newer.length - 1].dataset.by }, true);
    var p = form.querySelector("[data-newer-notice]");
    if (!p) {
      p = document.createElement("p");
      p.className = "error";
      p.setAttribute("role", "alert");
      p.dataset.newerNotice = "";
      form.insertBefore(p, form.querySelector("label"));
    }
    p.textContent = said + " " + gettext("Send again to post your reply as it is, or edit it first.");
  }

  function show(form, newer) {
    var list = document.getElementById("newer-messages");
    if (!list) {
      list = document.createElement("ol");
      list.className = "conversation newer";
      list.id = "newer-messages";
      list.setAttribute("aria-label", gettext("New since you started typing"));
      form.querySelector("input[name=written_against]").after(list);
    }
    newer.forEach(function (li) {
      if (list.querySelector('[data-message="' + li.dataset.message + '"]')) return;
      var copy = li.cloneNode(true);
      copy.querySelectorAll("[id]").forEach(function (el) { el.removeAttribute("id"); });
      list.appendChild(copy);
    });
    var send = form.querySelector("button.primary[data-key='mod+Enter']:not([formaction])");
    if (send && !form.hasAttribute("aria-busy")) send.textContent = gettext("Send as it is");
  }

  function check() {
    var form = document.getElementById("reply-form");
    var conversation = document.getElementById("conversation");
    var against = form && form.querySelector("input[name=written_against]");
    if (!against || !conversation || form.hasAttribute("aria-busy")) return;
    var seen = Number(against.value || 0);
    var me = document.body.dataset.agent;
    var newer = Array.prototype.filter.call(
      conversation.querySelectorAll("li[data-message]"),
      function (li) { return Number(li.dataset.message) > seen; });
    if (!newer.length) return;
    var others = newer.filter(function (li) { return !me || li.dataset.replyAgent !== me; });
    if (others.length) {
      notice(form, others);
      show(form, others);
    }
    against.value = String(newest(newer));
  }

  document.addEventListener("twelp:live", check);
})();

// The claim's lease (issue 15): renewed every data-renew seconds only if the agent typed,
// clicked, scrolled or moved the pointer on this page since the last renewal. An idle
// open tab sends nothing, so the lease runs out and the thread goes back to the queue.
(function () {
  var active = false;
  ["keydown", "input", "pointerdown", "pointermove", "wheel", "scroll", "touchstart"].forEach(
    function (type) {
      window.addEventListener(type, function () { active = true; }, { capture: true, passive: true });
    });
  document.addEventListener("DOMContentLoaded", function () {
    var renew = document.querySelector("[data-renew]");
    if (!renew || !window.htmx) return;
    var ticks = 0;
    setInterval(function () {
      ticks += 1;
      renew.dataset.ticks = String(ticks); // for tests: a tick passed, renewed or not
      if (!active) return;
      active = false;
      window.htmx.trigger(renew, "twelp:renew");
    }, 1000 * Number(renew.dataset.renew || 60));
  });
})();
