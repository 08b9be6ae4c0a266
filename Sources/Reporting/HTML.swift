// One self-contained HTML page: a chart of verdicts, a sortable and filterable table, details per file.
// Every text from a file (paths, symbol names, messages) is escaped; scripts only sort, filter and toggle.
import Assessment

public enum HTML {
    static let colors: [(Verdict, String)] = [(.runs, "#2e7d32"), (.needsLibc6Compat, "#9e9d24"), (.needsGcompat, "#ef6c00"), (.needsRebuild, "#c62828")]

    public static func render(_ run: RunReport) -> String {
        let s = run.summary, v = s.verdicts
        let counts: [Verdict: Int] = [.runs: v.runs, .needsLibc6Compat: v.needsLibc6Compat, .needsGcompat: v.needsGcompat, .needsRebuild: v.needsRebuild]
        let assessed = max(1, s.assessed)
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>muslcheck: Alpine \(xml(run.target.release))</title>
        <style>
        body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
        h1{font-size:20px;margin:0 0 4px} .sub{color:#555;margin-bottom:16px}
        .bar{display:flex;height:26px;border-radius:4px;overflow:hidden;margin:8px 0 4px;max-width:900px}
        .bar div{color:#fff;font-size:12px;line-height:26px;text-align:center;white-space:nowrap;overflow:hidden}
        .legend span{display:inline-block;margin-right:14px} .dot{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
        .controls{margin:16px 0 8px} input,select{font:inherit;padding:3px 6px;margin-right:8px}
        table{border-collapse:collapse;width:100%} th,td{border-bottom:1px solid #ddd;padding:5px 8px;text-align:left;vertical-align:top}
        th{cursor:pointer;background:#f5f5f5;user-select:none} th:after{content:" \\2195";color:#aaa}
        td.path{font-family:ui-monospace,monospace;word-break:break-all} .v{font-weight:600;white-space:nowrap}
        tr.detail{display:none} tr.detail.open{display:table-row} tr.detail td{background:#fafafa}
        pre{white-space:pre-wrap;margin:0;font-size:12px} .apk{font-family:ui-monospace,monospace;background:#f0f0f0;padding:4px 8px}
        </style></head><body>
        <h1>muslcheck: Alpine \(xml(run.target.release))</h1>
        <div class="sub">musl \(xml(run.target.musl)), gcompat \(xml(run.target.gcompat)); \(s.files) files, \(s.assessed) assessed, \(s.skipped) skipped, \(s.errors) unreadable; gate \(run.gate.failed ? "<b>failed</b>" : "passed") (--fail-on \(xml(run.gate.failOn)))</div>
        <div class="bar" id="chart">
        """
        for (verdict, color) in colors where (counts[verdict] ?? 0) > 0 {
            let n = counts[verdict] ?? 0
            out += "<div style=\"width:\(Double(n) * 100 / Double(assessed))%;background:\(color)\" title=\"\(verdict.rawValue): \(n)\">\(verdict.rawValue) \(n)</div>"
        }
        out += "</div><div class=\"legend\">"
        for (verdict, color) in colors { out += "<span><i class=\"dot\" style=\"background:\(color)\"></i>\(verdict.rawValue): \(counts[verdict] ?? 0)</span>" }
        out += "</div>\n"
        if !s.packages.isEmpty { out += "<p>Install for everything that can run: <span class=\"apk\">apk add --no-cache \(xml(s.packages.joined(separator: " ")))</span></p>\n" }
        if !s.topSymbols.isEmpty { out += "<p>Symbols that block the most files: " + s.topSymbols.map { "<code>\(xml($0.name))</code> (\($0.files))" }.joined(separator: ", ") + "</p>\n" }
        out += """
        <div class="controls"><input id="q" type="search" placeholder="filter by path, symbol, library" size="40">
        <select id="verdict"><option value="">all verdicts</option><option>runs</option><option>needs-libc6-compat</option><option>needs-gcompat</option><option>needs-rebuild</option><option>error</option><option>skipped</option></select></div>
        <table id="files"><thead><tr><th data-k="0">file</th><th data-k="1">verdict</th><th data-k="2">libc</th><th data-k="3">missing</th><th data-k="4">fix</th></tr></thead><tbody>

        """
        for (i, r) in run.results.enumerated() {
            let verdict = r.assessment?.verdict.rawValue ?? r.status.rawValue
            let color = colors.first { $0.0.rawValue == verdict }?.1 ?? "#555"
            let missing = (r.assessment?.missingSymbols.map(\.name) ?? []) + (r.assessment?.missingLibraries.map(\.soname) ?? [])
            let fix = r.assessment.map { a in (a.verdict == .needsRebuild ? a.fix?.rebuild : a.fix?.apk) ?? "" } ?? (r.error ?? "")
            out += "<tr class=\"row\" data-i=\"\(i)\" data-verdict=\"\(xml(verdict))\"><td class=\"path\">\(xml(r.path))</td><td class=\"v\" style=\"color:\(color)\">\(xml(verdict))</td>"
            out += "<td>\(xml(r.assessment?.libc.rawValue ?? ""))</td><td>\(xml(missing.prefix(6).joined(separator: ", ")))\(missing.count > 6 ? " …" : "")</td><td>\(xml(fix))</td></tr>\n"
            out += "<tr class=\"detail\" id=\"d\(i)\"><td colspan=\"5\"><pre>\(xml(CheckText.file(r)))</pre></td></tr>\n"
        }
        out += """
        </tbody></table>
        <script>
        (function(){
          var tbody=document.querySelector('#files tbody');
          var rows=Array.prototype.slice.call(tbody.querySelectorAll('tr.row'));
          var order=['runs','needs-libc6-compat','needs-gcompat','needs-rebuild','error','skipped'];
          function apply(){
            var q=document.getElementById('q').value.toLowerCase(), v=document.getElementById('verdict').value;
            rows.forEach(function(r){
              var d=document.getElementById('d'+r.dataset.i);
              var show=(!v||r.dataset.verdict===v)&&(!q||r.textContent.toLowerCase().indexOf(q)>=0||d.textContent.toLowerCase().indexOf(q)>=0);
              r.style.display=show?'':'none'; if(!show){d.classList.remove('open');}
            });
          }
          document.getElementById('q').addEventListener('input',apply);
          document.getElementById('verdict').addEventListener('change',apply);
          rows.forEach(function(r){r.addEventListener('click',function(){document.getElementById('d'+r.dataset.i).classList.toggle('open');});});
          var dir=1;
          document.querySelectorAll('th').forEach(function(th){th.addEventListener('click',function(){
            var k=+th.dataset.k; dir=-dir;
            rows.sort(function(a,b){
              var x=a.children[k].textContent,y=b.children[k].textContent;
              if(k===1){x=order.indexOf(x);y=order.indexOf(y);return (x-y)*dir;}
              return x.localeCompare(y)*dir;
            });
            rows.forEach(function(r){tbody.appendChild(r);tbody.appendChild(document.getElementById('d'+r.dataset.i));});
          });});
        })();
        </script></body></html>

        """
        return out
    }
}
