// The exception queue: each open exception has a recipient search (a combobox). Typing lists
// recipients (Mailroom.searchRecipients); ArrowUp/ArrowDown move, Enter picks one, Enter again
// assigns it (submits the row's form). Candidates and "return to sender" are plain forms.
(function () {
  "use strict";

  var M = window.Mailroom;
  if (!M) {
    return;
  }
  var msg = M.msg;
  var msgf = M.msgf;
  var el = M.el;

  function setup(form) {
    var input = form.querySelector(".recipient-search");
    var list = form.querySelector('[role="listbox"]');
    var chosenEl = form.querySelector(".chosen");
    var personField = form.querySelector('input[name="person_id"]');
    var deptField = form.querySelector('input[name="department_id"]');
    var found = [];
    var active = -1;
    var chosen = null;
    var timer = null;
    var seq = 0;
    var pending = null;

    function setExpanded(open) {
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      if (!open) {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function renderActive() {
      var options = list.querySelectorAll('[role="option"]');
      for (var i = 0; i < options.length; i++) {
        var on = i === active;
        options[i].setAttribute("aria-selected", on ? "true" : "false");
        if (on) {
          input.setAttribute("aria-activedescendant", options[i].id);
        }
      }
    }

    function render() {
      list.textContent = "";
      if (!found.length) {
        list.appendChild(el("li", "cand-none", msg("js.no_match")));
        setExpanded(true);
        return;
      }
      found.forEach(function (c, i) {
        var li = el("li", "cand");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.appendChild(el("span", "cand-name", c.name));
        if (c.latin && c.latin !== c.name) {
          li.appendChild(el("span", "cand-latin", c.latin));
        }
        if (c.extra) {
          li.appendChild(el("span", "cand-extra", c.extra));
        }
        if (c.type === "department") {
          li.appendChild(el("span", "tag", msg("js.department")));
        }
        if (c.left) {
          li.appendChild(el("span", "tag tag-warn", msg("js.has_left")));
        }
        li.addEventListener("mousedown", function (e) {
          e.preventDefault();
        });
        li.addEventListener("click", function () {
          pick(found[i]);
        });
        list.appendChild(li);
      });
      setExpanded(true);
      renderActive();
    }

    function pick(c) {
      chosen = c;
      personField.value = c.type === "person" ? c.id : "";
      deptField.value = c.type === "department" ? c.id : "";
      input.value = c.name;
      found = [];
      active = -1;
      setExpanded(false);
      var text = c.latin && c.latin !== c.name ? c.name + " (" + c.latin + ")" : c.name;
      chosenEl.textContent = msgf(c.type === "department" ? "js.chosen_department" : "js.chosen_person", { name: text });
      chosenEl.hidden = false;
    }

    function unpick() {
      chosen = null;
      personField.value = "";
      deptField.value = "";
      chosenEl.hidden = true;
      chosenEl.textContent = "";
    }

    async function search() {
      timer = null;
      var q = input.value.trim();
      if (!q) {
        found = [];
        setExpanded(false);
        return;
      }
      var mine = ++seq;
      var r = await M.searchRecipients(q);
      if (mine !== seq) {
        return;
      }
      found = r.ok ? r.items : [];
      active = found.length ? 0 : -1;
      render();
    }

    input.addEventListener("input", function () {
      unpick();
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(function () {
        pending = search();
      }, 150);
    });

    input.addEventListener("keydown", async function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        if (!found.length) {
          return;
        }
        e.preventDefault();
        var n = found.length;
        active = e.key === "ArrowDown" ? (active + 1) % n : (active - 1 + n) % n;
        renderActive();
      } else if (e.key === "Enter") {
        e.preventDefault();
        if (timer) {
          clearTimeout(timer);
          pending = search();
        }
        if (pending) {
          await pending;
          pending = null;
        }
        if (!list.hidden && active >= 0 && found[active]) {
          pick(found[active]);
        } else if (chosen) {
          form.submit();
        }
      } else if (e.key === "Escape") {
        setExpanded(false);
      }
    });

    form.addEventListener("submit", function (e) {
      if (!chosen) {
        e.preventDefault();
        input.focus();
      }
    });
  }

  var forms = document.querySelectorAll("form.resolve-search");
  for (var i = 0; i < forms.length; i++) {
    setup(forms[i]);
  }
})();
