// The UI's words (issue 21): gettext/ngettext/interpolate come from Django's JavaScript
// catalog (/jsi18n/<language>/, loaded first by base.html); English if it is missing.
if (!window.gettext) {
  window.gettext = function (s) { return s; };
  window.ngettext = function (s, p, n) { return n === 1 ? s : p; };
  window.interpolate = function (f, o) {
    return f.replace(/%\((\w+)\)s/g, function (m, k) { return String(o[k]); });
  };
}

// The design system's behaviour, on every page (base.html). No inline script anywhere:
// the Content-Security-Policy refuses it, so everything is wired here by class or data-*.
(function () {
  "use strict";

  // --- The top bar's Menu button (phones: the links fold under it). ---------------------
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".menu-toggle");
    if (!toggle) return;
    var bar = toggle.closest(".topbar");
    var open = !bar.classList.contains("open");
    bar.classList.toggle("open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // --- Toasts: each flash message gets a close button; the good news leaves by itself. --
  function wireToasts(root) {
    root.querySelectorAll(".messages li:not([data-wired])").forEach(function (toast) {
      toast.dataset.wired = "1";
      var close = document.createElement("button");
      close.type = "button";
      close.setAttribute("aria-label", gettext("Dismiss"));
      close.textContent = "×";
      close.addEventListener("click", function () { toast.remove(); });
      toast.appendChild(close);
      if (toast.classList.contains("success")) {
        setTimeout(function () {
          toast.classList.add("leaving");
          setTimeout(function () { toast.remove(); }, 400);
        }, 12000);
      }
    });
  }

  // --- Confirmation before a destructive action: <form data-confirm="Deactivate Jane?"> --
  // (or data-confirm on its submit button). A <dialog> asks; its danger button submits.
  var dialog = null;
  function ask(message, label, onYes) {
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.className = "confirm-dialog";
      dialog.setAttribute("aria-labelledby", "confirm-text");
      var text = document.createElement("p");
      text.id = "confirm-text";
      var actions = document.createElement("div");
      actions.className = "actions";
      var cancel = document.createElement("button");
      cancel.type = "button";
      cancel.textContent = gettext("Cancel");
      cancel.addEventListener("click", function () { dialog.close(); });
      var yes = document.createElement("button");
      yes.type = "button";
      yes.className = "danger solid";
      yes.dataset.confirmYes = "1";
      actions.append(cancel, yes);
      dialog.append(text, actions);
      document.body.appendChild(dialog);
    }
    dialog.querySelector("#confirm-text").textContent = message;
    var yes = dialog.querySelector("[data-confirm-yes]");
    yes.textContent = label;
    yes.onclick = function () { dialog.close(); onYes(); };
    dialog.showModal();
    dialog.querySelector("button").focus(); // Cancel first: Enter never destroys by accident
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var submitter = event.submitter;
    var holder = submitter && submitter.dataset.confirm ? submitter : form;
    var message = holder.dataset && holder.dataset.confirm;
    if (!message || form.dataset.confirmed === "1") { delete form.dataset.confirmed; return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    var label = (submitter && submitter.textContent.trim()) || gettext("Confirm");
    ask(message, label, function () {
      form.dataset.confirmed = "1";
      form.requestSubmit(submitter || undefined);
    });
  }, true);

  // --- Live counts on the queue's tabs: the pushed rows carry them (data-tab-counts). ----
  function syncCounts() {
    var source = document.querySelector("[data-tab-counts]");
    if (!source) return;
    var counts = JSON.parse(source.dataset.tabCounts);
    document.querySelectorAll(".tabs [data-count-for]").forEach(function (badge) {
      var n = counts[badge.dataset.countFor];
      if (n === undefined) return;
      if (badge.textContent !== String(n)) badge.textContent = n;
    });
  }

  // --- A table that scrolls sideways in its own box (phones) takes the keyboard's focus,
  // so it can be scrolled without a mouse. -----------------------------------------------
  function scrollables() {
    document.querySelectorAll("main table").forEach(function (table) {
      var scrolls = table.scrollWidth > table.clientWidth + 1 && getComputedStyle(table).overflowX === "auto";
      if (scrolls && !table.hasAttribute("tabindex")) table.setAttribute("tabindex", "0");
      if (!scrolls && table.getAttribute("tabindex") === "0") table.removeAttribute("tabindex");
    });
  }
  window.addEventListener("resize", scrollables);

  // --- Times in the employee's own zone (issue 21). Pages render them in it already;
  // the live parts pushed to the whole brand carry the brand's, so a <time datetime> whose
  // text is the house's "Dec 2, 13:05" is written again in body[data-tz] after a swap.
  // The month's short name as Django's date filter ("M") writes it in the page's language.
  var SHORT = /^\S{3} \d{1,2}, \d{2}:\d{2}$/;
  var MONTHS = gettext("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec").split(" ");
  var zone = document.body.dataset.tz;
  var format = null;
  try {
    if (zone) {
      var parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
      format = {
        format: function (at) {
          var p = {};
          parts.formatToParts(at).forEach(function (part) { p[part.type] = part.value; });
          return MONTHS[Number(p.month) - 1] + " " + p.day + ", " + p.hour + ":" + p.minute;
        },
      };
    }
  } catch (error) { format = null; }
  function localTimes(root) {
    if (!format) return;
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var text = el.textContent.trim();
      if (!SHORT.test(text)) return;
      var at = new Date(el.getAttribute("datetime"));
      if (isNaN(at)) return;
      var local = format.format(at);
      if (local !== text) el.textContent = local;
    });
  }

  function wire() {
    localTimes(document);
    wireToasts(document);
    syncCounts();
    scrollables();
  }
  document.addEventListener("DOMContentLoaded", function () {
    wire();
    new MutationObserver(function (changes) {
      if (changes.some(function (c) { return c.addedNodes.length; })) wire();
    }).observe(document.body, { childList: true, subtree: true });
  });
})();

// --- A toast from a script or from the server (an htmx answer's HX-Trigger "twelp:toast",
// {text, level}: a lost race for Claim next, a clear queue). The words are put in as
// text, never HTML; the toasts list is made when the page has none; wireToasts (above)
// gives it its close button, and the good news leaves by itself.
window.twelpToast = function (words, level) {
  "use strict";
  var list = document.querySelector("ul.messages");
  if (!list) {
    list = document.createElement("ul");
    list.className = "messages";
    list.setAttribute("aria-label", gettext("Messages"));
    document.body.appendChild(list);
  }
  // The same words again (Claim next clicked twice) replace the toast, not stack it.
  list.querySelectorAll(".toast-text").forEach(function (said) {
    if (words && said.textContent === words) said.parentNode.remove();
  });
  var item = document.createElement("li");
  item.className = level || "info";
  var text = document.createElement("span");
  text.className = "toast-text";
  text.setAttribute("role", level === "error" ? "alert" : "status");
  text.textContent = words;
  item.appendChild(text);
  list.appendChild(item);
  return item;
};
document.addEventListener("twelp:toast", function (event) {
  "use strict";
  var said = event.detail || {};
  if (said.text) window.twelpToast(String(said.text), said.level === "error" ? "error" : "info");
});

// --- Notifications in the top bar (issue 21; inbox.views.notices, inbox.live.hub 9). ------
// The badge counts this employee's unread notifications. A page with a live part gets them
// on its own push stream (twelp.js passes `notices` events to twelpNotices); any other page
// opens a `silent` stream that carries only them. While no stream is live (the html
// element's data-push is not "live": a buffering proxy, the push process down), the badge
// is polled every POLL ms, as the live parts poll. A notification newer than any seen on
// this page also shows as a toast (its words are Twelp's, put in as text, never HTML).
(function () {
  "use strict";
  var POLL = 2000;
  var RETRY = 10000;
  var link = document.getElementById("notices-link");
  if (!link) return;
  var count = document.getElementById("notices-count");
  var seen = null; // the newest id shown so far; the first answer only sets it

  function toast(newest) {
    var text = window.twelpToast(newest.text + " ", "notice-toast").querySelector(".toast-text");
    var open = document.createElement("a");
    open.href = newest.url;
    open.textContent = gettext("Open");
    text.appendChild(open);
  }

  window.twelpNotices = function (json) {
    var data;
    try { data = JSON.parse(json); } catch (error) { return; }
    var n = Number(data.unread) || 0;
    count.querySelector("[data-count]").textContent = n > 99 ? "99+" : String(n);
    count.hidden = n === 0;
    link.dataset.unread = String(n);
    var newest = data.newest;
    if (newest && seen !== null && newest.id > seen) toast(newest);
    if (newest && (seen === null || newest.id > seen)) seen = newest.id;
    if (seen === null) seen = 0;
  };

  function poll() {
    if (document.documentElement.dataset.push !== "live") fetchBadge();
  }

  function fetchBadge() {
    fetch(link.dataset.badgeUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (text) { if (text) window.twelpNotices(text); })
      .catch(function () { /* the web is down: the next poll tries again */ });
  }

  // A page without a live part: a stream of its own, for the notifications alone.
  function connect() {
    var base = document.body.dataset.pushUrl;
    if (!base || !window.EventSource) return;
    var source = new EventSource(base + "events/?view=notices&notices=1", { withCredentials: true });
    source.onopen = function () { document.documentElement.dataset.push = "live"; };
    source.addEventListener("notices", function (event) { window.twelpNotices(event.data); });
    source.onerror = function () {
      document.documentElement.dataset.push = "polling";
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, RETRY * (0.5 + Math.random()));
    };
  }

  if (!window.twelpPushOwner) {
    document.documentElement.dataset.push = "polling";
    connect();
  }
  // One poll at load, whatever the stream does: its answer is the page's baseline (what
  // was there before this page is not toasted), and a kept frame's count is filled in.
  fetchBadge();
  setInterval(poll, POLL);
})();
