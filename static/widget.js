/* searchapp widget: <searchapp-search> on any page. Plain JavaScript, no dependencies, no build step.
   <script src="https://SEARCH-HOST/widget.js" defer></script>
   <searchapp-search placeholder="Search the archive" facets="section,author" results="5"
                     filter="source:themoscowtimes.com"></searchapp-search>
   Talks only to the host it was loaded from, without cookies or referrer. Theme it with
   --searchapp-accent, -bg, -fg, -muted, -line, -mark-bg, -mark-fg, -font, -font-size, -radius. */
(function () {
  "use strict";
  var NAME = "searchapp-search";
  if (!window.customElements || customElements.get(NAME)) { return; }
  var script = document.currentScript ||
    [].slice.call(document.scripts).filter(function (s) { return /\/widget\.js([?#]|$)/.test(s.src); }).pop();
  var HOST = new URL(script && script.src ? script.src : location.href).origin;

  var CSS =
    ":host{all:initial;display:block}:host([hidden]){display:none}" +
    ".w{all:initial;display:block;box-sizing:border-box;text-align:start;" +
    "--a:var(--searchapp-accent,#0b57d0);--b:var(--searchapp-bg,#fff);--f:var(--searchapp-fg,#1b1b1f);" +
    "--u:var(--searchapp-muted,#5b5d66);--l:var(--searchapp-line,#d9dae0);--k:var(--searchapp-mark-bg,#ffe066);" +
    "--kf:var(--searchapp-mark-fg,#1b1b1f);--r:var(--searchapp-radius,8px);" +
    "font-family:var(--searchapp-font,system-ui,-apple-system,'Segoe UI',sans-serif);" +
    "font-size:var(--searchapp-font-size,15px);line-height:1.45;color:var(--f);background:var(--b);" +
    "border:1px solid var(--l);border-radius:var(--r);padding:.75em;color-scheme:light dark}" +
    "@media (prefers-color-scheme:dark){.w{--a:var(--searchapp-accent,#8ab4f8);--b:var(--searchapp-bg,#141518);" +
    "--f:var(--searchapp-fg,#e8e9ed);--u:var(--searchapp-muted,#a4a7b1);--l:var(--searchapp-line,#33353c);" +
    "--k:var(--searchapp-mark-bg,#6b5800);--kf:var(--searchapp-mark-fg,#fff6cc)}}" +
    "*,*::before,*::after{box-sizing:border-box}" +
    "input{width:100%;font:inherit;color:inherit;background:var(--b);border:1px solid var(--u);" +
    "border-radius:calc(var(--r)*.75);padding:.45em .7em;margin:0}" +
    ":focus-visible{outline:3px solid var(--a);outline-offset:2px}" +
    ".v{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    ".s{margin:.5em 0 0;color:var(--u);font-size:.9em}.s:empty{display:none}.e{color:var(--f)}" +
    ".g{margin:.5em 0 0;display:flex;flex-wrap:wrap;gap:.35em;align-items:baseline}" +
    ".g b{font-size:.8em;color:var(--u);font-weight:600;margin-right:.2em}" +
    "button{font:inherit;font-size:.85em;color:var(--f);background:transparent;border:1px solid var(--l);" +
    "border-radius:999px;padding:.1em .65em;cursor:pointer;margin:0}" +
    "button[aria-pressed=true]{background:var(--a);border-color:var(--a);color:var(--b)}" +
    "button span{opacity:.75;margin-left:.35em}" +
    "ol{list-style:none;margin:.25em 0 0;padding:0}li{padding:.5em 0;border-bottom:1px solid var(--l)}" +
    "li:last-child{border-bottom:0}" +
    "a{color:var(--a);font-weight:600;text-decoration:none}a:hover,a:focus{text-decoration:underline}" +
    "p{margin:.15em 0 0}.m{color:var(--u);font-size:.85em}.t{overflow-wrap:anywhere}" +
    "mark{background:var(--k);color:var(--kf);padding:0 .1em;border-radius:2px}" +
    ".all{display:inline-block;margin-top:.35em;font-size:.9em;font-weight:400}.all[hidden]{display:none}";

  var sheet = null;
  try { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); } catch (e) { sheet = null; }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text != null) { node.textContent = text; }
    return node;
  }

  // The API's highlights are escaped text with only <mark> tags: build text and <mark> nodes from them.
  var ENTITIES = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'", nbsp: "\u00a0" };
  function decode(text) {
    return text.replace(/&(#x?)?(\w+);/gi, function (whole, number, name) {
      if (!number) { return ENTITIES[name] || whole; }
      var code = parseInt(name, number.length > 1 ? 16 : 10);
      return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : whole;
    });
  }
  function marked(html, into) {
    var inside = false;
    html.split(/(<\/?mark>)/).forEach(function (part) {
      if (part === "<mark>" || part === "</mark>") { inside = part === "<mark>"; }
      else if (part) { into.appendChild(inside ? el("mark", "", decode(part)) : document.createTextNode(decode(part))); }
    });
  }
  function plural(n, word) { return n.toLocaleString("en") + " " + word + (n === 1 ? "" : "s"); }

  class SearchappSearch extends HTMLElement {
    static get observedAttributes() { return ["placeholder", "results", "facets", "filter", "lang"]; }

    constructor() {
      super();
      var root = this.attachShadow({ mode: "open" });
      if (sheet && "adoptedStyleSheets" in root) { root.adoptedStyleSheets = [sheet]; }
      else { root.appendChild(el("style", "", CSS)); }
      var w = this.w = el("div", "w");
      var form = el("form");
      form.setAttribute("role", "search");
      var label = el("label", "v", "Search");
      label.htmlFor = "q";
      var box = this.box = el("input");
      box.id = "q";
      box.type = "search";
      box.autocomplete = "off";
      box.spellcheck = false;
      box.maxLength = 500;
      box.setAttribute("aria-describedby", "h");
      box.setAttribute("aria-controls", "r");
      form.append(label, box);
      var help = el("p", "v", "Results update as you type. Use the arrow keys to move through the hits and Enter to open one.");
      help.id = "h";
      this.status = el("p", "s");
      this.status.setAttribute("role", "status");
      this.status.setAttribute("aria-live", "polite");
      this.status.setAttribute("aria-atomic", "true");
      this.facetsBox = el("div");
      this.list = el("ol");
      this.list.id = "r";
      this.list.setAttribute("aria-label", "Results");
      this.all = el("a", "all");
      this.all.hidden = true;
      this.all.referrerPolicy = "no-referrer";
      w.append(form, help, this.facetsBox, this.status, this.list, this.all);
      root.appendChild(w);
      this.chosen = [];
      this.timer = 0;
      this.request = null;

      var self = this;
      form.addEventListener("submit", function (event) { event.preventDefault(); self.search(true); });
      box.addEventListener("input", function () { self.search(false); });
      w.addEventListener("keydown", function (event) { self.key(event); });
    }

    connectedCallback() { this.configure(); }
    attributeChangedCallback() {
      this.configure();
      if (this.box.value.trim()) { this.search(true); }
    }

    configure() {
      this.box.placeholder = this.getAttribute("placeholder") || "Search";
      this.w.lang = this.getAttribute("lang") || "en";
      var count = parseInt(this.getAttribute("results"), 10);
      this.count = Math.min(20, Math.max(1, count || 5));
    }

    // The fixed filters (filter="source:a.com, section:World") and the chosen facet values, as URL parameters.
    params() {
      var params = new URLSearchParams();
      params.set("q", this.box.value.trim());
      (this.getAttribute("filter") || "").split(",").forEach(function (pair) {
        var at = pair.indexOf(":");
        if (at > 0) { params.append(pair.slice(0, at).trim(), pair.slice(at + 1).trim()); }
      });
      this.chosen.forEach(function (pair) { params.append(pair[0], pair[1]); });
      return params;
    }

    search(now) {
      clearTimeout(this.timer);
      if (now) { this.run(); } else { this.timer = setTimeout(this.run.bind(this), 150); }
    }

    run() {
      if (this.request) { this.request.abort(); }
      this.request = null;
      var q = this.box.value.trim();
      if (!q) { this.clear(); this.say(""); return; }
      var params = this.params();
      var api = new URLSearchParams(params);
      api.set("per_page", String(this.count));
      api.set("typing", "true");  // the widget searches as its visitor types
      var request = this.request = new AbortController();
      var self = this;
      this.list.setAttribute("aria-busy", "true");
      fetch(HOST + "/api/search?" + api, {
        signal: request.signal, credentials: "omit", referrerPolicy: "no-referrer", mode: "cors",
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) {
            throw new Error(response.status === 429 ? "Too many searches; try again in a moment."
              : data.error || "The search failed (" + response.status + ").");
          }
          return data;
        });
      }, function () {
        throw new Error("Search is not available on this site.");
      }).then(function (data) {
        if (self.request === request) { self.show(data, q, params); }
      }).catch(function (error) {
        if (self.request === request && error.name !== "AbortError") { self.clear(); self.say(error.message, true); }
      });
    }

    clear() {
      this.list.removeAttribute("aria-busy");
      this.list.textContent = "";
      this.facetsBox.textContent = "";
      this.all.hidden = true;
    }

    say(text, error) {
      this.status.textContent = text;
      this.status.className = error ? "s e" : "s";
    }

    show(data, q, params) {
      this.clear();
      var total = data.total || 0;
      this.say((total ? plural(total, "result") : "No results") +
        (data.corrected ? " for “" + data.suggestion + "” (nothing for “" + q + "”)" : " for “" + q + "”"));
      var self = this;
      var back = params.toString();
      (data.hits || []).forEach(function (hit) {
        var item = el("li");
        var link = el("a", "t", hit.title_highlights ? "" : hit.title || hit.article_id);
        marked(hit.title_highlights || "", link);
        link.href = HOST + "/articles/" + encodeURIComponent(hit.article_id).replace(/%2F/g, "/") +
          "?" + back + "#" + encodeURIComponent(hit.id);
        link.referrerPolicy = "no-referrer";
        var text = el("p");
        marked(hit.highlights || "", text);
        item.append(link, el("p", "m", [hit.published, hit.section].filter(Boolean).join(" · ")), text);
        self.list.appendChild(item);
      });
      (this.getAttribute("facets") || "").split(",").forEach(function (name) {
        name = name.trim();
        var values = ((data.facets || {})[name] || []).filter(function (v, i) { return i < 8 || v.selected; });
        if (!values.length) { return; }
        var group = el("div", "g");
        var title = name.charAt(0).toUpperCase() + name.slice(1);
        group.setAttribute("role", "group");
        group.setAttribute("aria-label", title);
        group.appendChild(el("b", "", title));
        values.forEach(function (value) {
          var button = el("button", "", value.label || value.value);
          button.type = "button";
          button.append(" ", el("span", "", value.count.toLocaleString("en")));
          button.setAttribute("aria-pressed", String(!!value.selected));
          button.addEventListener("click", function () { self.toggle(name, value.value); });
          group.appendChild(button);
        });
        self.facetsBox.appendChild(group);
      });
      if (total) {
        this.all.href = HOST + "/search?" + back;
        this.all.textContent = "See all " + plural(total, "result");
        this.all.hidden = false;
      }
    }

    toggle(name, value) {
      var at = this.chosen.findIndex(function (pair) { return pair[0] === name && pair[1] === value; });
      if (at === -1) { this.chosen.push([name, value]); } else { this.chosen.splice(at, 1); }
      this.search(true);
    }

    // Arrow keys move between the search box and the hits, as on the search page; Escape clears.
    key(event) {
      if (event.altKey || event.ctrlKey || event.metaKey) { return; }
      var links = [].slice.call(this.list.querySelectorAll("a"));
      var at = links.indexOf(this.shadowRoot.activeElement);
      var onBox = this.shadowRoot.activeElement === this.box;
      var next = null;
      if (event.key === "ArrowDown" && (onBox || at !== -1)) { next = links[Math.min(at + 1, links.length - 1)]; }
      else if (event.key === "ArrowUp" && at !== -1) { next = at ? links[at - 1] : this.box; }
      else if (event.key === "Escape" && onBox && this.box.value) {
        this.box.value = "";
        this.chosen = [];
        this.search(true);
        event.preventDefault();
      }
      if (next) { next.focus(); event.preventDefault(); }
      // Letters typed into the box are ours, not the host page's keyboard shortcuts.
      if (onBox && String(event.key).length === 1) { event.stopPropagation(); }
    }
  }

  customElements.define(NAME, SearchappSearch);
})();
