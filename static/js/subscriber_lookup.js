// The application form's subscriber field: as the clerk types a code, a name or a フリガナ, list whom it matches
// (GET /subscribers/lookup/?q=…, JSON, at most 20, the header search's normalisation) and show who the one chosen
// is (code, name, フリガナ, base contracts) before 確認. Without script the form does the same in two steps: 確認
// lists the candidates as radio buttons (templates/contracts/_subscriber_lookup.html). The server decides; this
// only saves a round trip. No inline script or style: the page's CSP forbids them.
(function () {
  var box = document.getElementById("subscriber-lookup");
  var input = document.getElementById("id_subscriber_code");
  if (!box || !input) {
    return;
  }
  var card = document.getElementById("subscriber-card");
  var url = box.dataset.lookupUrl;
  var list = document.createElement("ul");
  list.id = "subscriber-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", "契約者の候補");
  list.hidden = true;
  input.insertAdjacentElement("afterend", list);
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", list.id);
  input.setAttribute("aria-expanded", "false");

  var timer = null;
  var asked = 0;
  var results = [];
  var active = -1;

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (content) {
      node.textContent = content;
    }
    return node;
  }

  // The same card as templates/contracts/_subscriber_card.html.
  function buildCard(s) {
    var root = element("div", "subscriber-card");
    root.dataset.code = s.code;
    var who = element("p", "who-line");
    who.appendChild(element("strong", "", s.name));
    who.appendChild(document.createTextNode(" "));
    who.appendChild(element("span", "code", s.code));
    if (s.kana) {
      who.appendChild(document.createTextNode(" "));
      who.appendChild(element("span", "kana", s.kana));
    }
    if (!s.active) {
      who.appendChild(document.createTextNode(" "));
      who.appendChild(element("span", "badge ended", "無効"));
    }
    root.appendChild(who);
    if (s.base_contracts.length) {
      var contracts = element("ul", "base-contracts");
      s.base_contracts.forEach(function (c) {
        var item = element("li", "", c.service + (c.number ? "（" + c.number + "）" : ""));
        item.appendChild(document.createTextNode(" "));
        item.appendChild(element("span", "muted", c.start + "から" + (c.end ? c.end + "まで" : "")));
        contracts.appendChild(item);
      });
      root.appendChild(contracts);
    } else {
      root.appendChild(element("p", "muted", "有効な基本サービス契約はありません。"));
    }
    return root;
  }

  function close() {
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    results = [];
    active = -1;
  }

  function highlight(index) {
    active = index;
    Array.prototype.forEach.call(list.children, function (item, i) {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0 && list.children[index]) {
      input.setAttribute("aria-activedescendant", list.children[index].id);
      list.children[index].scrollIntoView({ block: "nearest" });
    }
  }

  function show(subscriber) {
    card.replaceChildren(buildCard(subscriber));
  }

  function choose(index) {
    var s = results[index];
    if (!s) {
      return;
    }
    input.value = s.code;
    // A candidate ticked in the list the server gave would be posted after the field and win: the choice here is
    // the clerk's latest, so untick them.
    box.querySelectorAll("input[type=radio]").forEach(function (radio) {
      radio.checked = false;
    });
    show(s);
    close();
  }

  function render(data) {
    list.replaceChildren();
    results = data.results;
    if (!results.length) {
      list.appendChild(element("li", "empty", "当てはまる契約者はいません。"));
    }
    results.forEach(function (s, i) {
      var item = element("li", "suggestion");
      item.id = "subscriber-option-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.appendChild(element("span", "code", s.code));
      item.appendChild(element("strong", "", s.name));
      if (s.kana) {
        item.appendChild(element("span", "kana", s.kana));
      }
      var services = s.base_contracts.map(function (c) {
        return c.service;
      });
      item.appendChild(element("span", "sub", services.length ? services.join("、") : "基本サービス契約なし"));
      // mousedown, not click: it comes before the field's blur closes the list.
      item.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(i);
      });
      list.appendChild(item);
    });
    if (data.more) {
      list.appendChild(element("li", "more", "ほかにも当てはまります。もっと詳しく入力してください。"));
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    active = -1;
  }

  function lookup() {
    var text = input.value.trim();
    if (!text) {
      close();
      return;
    }
    var mine = ++asked;
    fetch(url + "?q=" + encodeURIComponent(text), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (mine === asked && data) {
          render(data);
        }
      })
      .catch(close);
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(lookup, 200);
    var shown = card.querySelector(".subscriber-card");
    if (shown && shown.dataset.code !== input.value.trim()) {
      card.replaceChildren(); // the card named someone else: not shown beside a different text
    }
  });

  input.addEventListener("keydown", function (event) {
    if (list.hidden || !results.length) {
      return;
    }
    if (event.key === "ArrowDown") {
      event.preventDefault();
      highlight(Math.min(active + 1, results.length - 1));
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      highlight(Math.max(active - 1, 0));
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault(); // choose, do not submit the form
      choose(active);
    } else if (event.key === "Escape") {
      close();
    }
  });

  input.addEventListener("blur", function () {
    window.setTimeout(close, 150);
  });

  // A candidate ticked in the server's list names its subscriber in the field too.
  box.addEventListener("change", function (event) {
    if (event.target.type === "radio") {
      input.value = event.target.value;
    }
  });
})();
