// digitlab report: sort a table by the column whose name is clicked. Numbers sort by value, text from A to Z
// (digits inside it by value); a cell without a value stays last either way. Clicking again reverses.
(function () {
  "use strict";

  function sortKey(cell) {
    var key = cell.getAttribute("data-sort");
    return key === null ? cell.textContent.trim() : key;
  }

  function sortRows(table, column, numeric, sign) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return { row: row, key: sortKey(row.cells[column]), i: i };
    });
    rows.sort(function (a, b) {
      if (a.key === "" || b.key === "") {
        return a.key === b.key ? a.i - b.i : (a.key === "" ? 1 : -1);
      }
      var c = numeric ? Number(a.key) - Number(b.key)
                      : a.key.localeCompare(b.key, undefined, { numeric: true, sensitivity: "base" });
      return c !== 0 ? sign * c : a.i - b.i;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var headers = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(headers, function (th, column) {
      var button = th.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var first = th.getAttribute("data-first") || "ascending";
        var now = th.getAttribute("aria-sort");
        var order = now === first ? (first === "ascending" ? "descending" : "ascending") : first;
        Array.prototype.forEach.call(headers, function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", order);
        sortRows(table, column, th.getAttribute("data-type") === "number", order === "ascending" ? 1 : -1);
      });
    });
  });
})();
