/* Keyboard shortcuts and selection, progressive enhancement only: every action
   here is also a link, a button or a form that works without this file.
   j / k   move down / up in a list         o or Enter  open the issue
   x       select the issue (bulk actions)  a           take it (assign to me)
   b       go to the bulk action            e           edit the issue
   c       new issue                        /           search
   ?       show these keys                  Esc         leave a field
   Shortcuts never fire while typing in a field (Esc leaves it). Shift-click on
   a checkbox selects the range from the last one clicked. */
(function () {
  "use strict";

  var KEYS = [
    ["j / k", "Next / previous issue in the list"],
    ["o or Enter", "Open the issue"],
    ["x", "Select the issue for a bulk action"],
    ["b", "Go to the bulk action for the selected issues"],
    ["a", "Take it (triage queue), assign to me (issue page)"],
    ["e", "Edit the issue"],
    ["c", "New issue"],
    ["/", "Search"],
    ["?", "Show or hide these keys"],
    ["Esc", "Leave a field, so these keys work again"],
  ];
  var current = -1;
  var lastChecked = null;

  function rows() {
    return Array.prototype.slice.call(
      document.querySelectorAll("[data-list] [data-row]")
    );
  }

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return (
      tag === "input" || tag === "textarea" || tag === "select" ||
      target.isContentEditable
    );
  }

  function mark(index) {
    var all = rows();
    if (!all.length) return null;
    current = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, n) {
      row.classList.toggle("current", n === current);
      if (n === current) row.setAttribute("aria-current", "true");
      else row.removeAttribute("aria-current");
    });
    var row = all[current];
    var link = row.querySelector("[data-open]");
    if (link) link.focus();
    return row;
  }

  function currentRow() {
    var all = rows();
    if (current < 0 || current >= all.length) return null;
    return all[current];
  }

  function help() {
    var dialog = document.getElementById("keys-help");
    if (!dialog) {
      dialog = document.createElement("dialog");
      dialog.id = "keys-help";
      dialog.setAttribute("aria-labelledby", "keys-help-title");
      var title = document.createElement("h2");
      title.id = "keys-help-title";
      title.textContent = "Keyboard shortcuts";
      dialog.appendChild(title);
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
      dialog.appendChild(list);
      var close = document.createElement("button");
      close.type = "button";
      close.textContent = "Close";
      close.addEventListener("click", function () { dialog.close(); });
      dialog.appendChild(close);
      document.body.appendChild(dialog);
    }
    if (dialog.open) dialog.close();
    else dialog.showModal();
  }

  function updateCount() {
    var count = document.querySelector("[data-bulk-count]");
    if (!count) return;
    var n = document.querySelectorAll("[data-select]:checked").length;
    count.textContent = "Selected issues: " + n;
  }

  function go(url) {
    window.location.assign(url);
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (typing(event.target)) {
      // Esc leaves the field (once any list it opened is closed), so a
      // keyboard-only user gets the shortcuts back.
      if (event.key === "Escape" && !event.defaultPrevented) event.target.blur();
      return;
    }
    var dialog = document.getElementById("keys-help");
    if (dialog && dialog.open && event.key !== "?") return;
    var row = currentRow();
    var handled = true;
    switch (event.key) {
      case "j":
        mark(current + 1);
        break;
      case "k":
        mark(current < 0 ? 0 : current - 1);
        break;
      case "o":
        if (row) go(row.getAttribute("data-href"));
        else handled = false;
        break;
      case "Enter":
        if (row && event.target === document.body) go(row.getAttribute("data-href"));
        else handled = false;
        break;
      case "x":
        if (row) {
          var box = row.querySelector("[data-select]");
          if (box) {
            box.checked = !box.checked;
            lastChecked = box;
            updateCount();
          }
        } else handled = false;
        break;
      case "a":
        var take = row && row.querySelector("[data-action=take]");
        if (take) take.click();
        else if (document.querySelector("[data-assign-me]")) {
          document.querySelector("[data-assign-me]").click();
        } else handled = false;
        break;
      case "b":
        var bulk = document.getElementById("bulk-action");
        if (bulk) bulk.focus();
        else handled = false;
        break;
      case "e":
        if (row) go(row.getAttribute("data-href") + "#edit-form");
        else {
          var edit = document.getElementById("edit-form");
          var field = edit && edit.querySelector("input, select, textarea");
          if (field) field.focus();
          else handled = false;
        }
        break;
      case "c":
        go("/issues/new/");
        break;
      case "/":
        var search = document.querySelector("input[type=search]");
        if (search) search.focus();
        else go("/issues/");
        break;
      case "?":
        help();
        break;
      default:
        handled = false;
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var box = event.target;
    if (!box || !box.matches || !box.matches("[data-select]")) return;
    if (event.shiftKey && lastChecked && lastChecked !== box) {
      var boxes = Array.prototype.slice.call(
        document.querySelectorAll("[data-select]")
      );
      var from = boxes.indexOf(lastChecked);
      var to = boxes.indexOf(box);
      if (from >= 0 && to >= 0) {
        var low = Math.min(from, to);
        var high = Math.max(from, to);
        for (var i = low; i <= high; i++) boxes[i].checked = box.checked;
      }
    }
    lastChecked = box;
    updateCount();
  });

  document.addEventListener("change", function (event) {
    if (event.target && event.target.matches && event.target.matches("[data-select]")) {
      updateCount();
    }
  });

  // After a row comes back from the server, keep the cursor on it.
  document.addEventListener("htmx:afterSwap", function () {
    if (current >= 0) mark(current);
    updateCount();
  });
  document.addEventListener("htmx:afterSettle", function () {
    updateCount();
  });
})();
