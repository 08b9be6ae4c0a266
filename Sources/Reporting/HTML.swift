import Assessment
// One self-contained HTML page: a chart of verdicts, then every file worst first with the reason that
// blocks it and its fix, the common path prefix said once; rows group by cause or by fix, filter, sort,
// and expand (one by one or all) to the full text. Every text from a file (paths, symbol names, messages)
// is escaped; scripts only sort, filter, group and toggle.
import TextSupport

public enum HTML {
    static let colors: [(Verdict, String)] = [
        (.runs, "#2e7d32"), (.needsLibc6Compat, "#9e9d24"), (.needsGcompat, "#ef6c00"), (.needsRebuild, "#c62828"),
    ]

    /// The longest directory prefix (ending in `/`) every path shares; "" when none worth saying.
    static func commonDirectory(_ paths: [String]) -> String {
        guard let firstPath = paths.first else { return "" }
        var prefix = Substring(firstPath)
        for p in paths.dropFirst() {
            while !p.hasPrefix(prefix) { prefix = prefix.dropLast() }
            if prefix.isEmpty { return "" }
        }
        guard let slash = prefix.lastIndex(of: "/") else { return "" }
        let dir = String(prefix[...slash])
        return dir.count > 1 ? dir : ""
    }

    public static func render(_ run: RunReport) -> String {
        let s = run.summary
        let v = s.verdicts
        let counts: [Verdict: Int] = [
            .runs: v.runs, .needsLibc6Compat: v.needsLibc6Compat, .needsGcompat: v.needsGcompat,
            .needsRebuild: v.needsRebuild,
        ]
        let prefix = commonDirectory(run.results.map(\.path))
        var out = head(run) + chart(counts, assessed: max(1, s.assessed))
        if !s.packages.isEmpty {
            out +=
                "<p>Install for everything that can run: <span class=\"apk\">apk add --no-cache \(xml(s.packages.joined(separator: " ")))</span></p>\n"
        }
        if !s.topSymbols.isEmpty {
            out +=
                "<p>Symbols that block the most files: "
                + s.topSymbols.map { "<code>\(xml($0.name))</code> (\($0.files))" }.joined(separator: ", ") + "</p>\n"
        }
        out += controls
        if !prefix.isEmpty { out += "<p class=\"root\">All paths are under <code>\(xml(prefix))</code></p>\n" }
        out +=
            "<table id=\"files\"><colgroup><col class=\"c-file\"><col class=\"c-v\"><col class=\"c-why\"><col></colgroup>"
        out +=
            "<thead><tr><th data-k=\"0\">file</th><th data-k=\"1\">verdict</th><th data-k=\"2\">blocking reason</th><th data-k=\"3\">fix</th></tr></thead><tbody>\n"
        for i in run.bySeverity { out += row(run, i, prefix: prefix) }
        return out + script
    }

    /// The page up to the verdict chart: styles, title, the target and counts, the gate's word.
    static func head(_ run: RunReport) -> String {
        let s = run.summary
        let g = run.gate
        let waived = "\(g.ignoredByPolicy) ignored by policy, \(g.inBaseline) in the baseline"
        let gateText =
            g.failed
            ? "<b class=\"fail\">gate failed</b>: \(g.failingFiles) \(g.failingFiles == 1 ? "file fails" : "files fail") --fail-on \(xml(g.failOn)) (\(waived))"
            : "<b class=\"pass\">gate passed</b> (--fail-on \(xml(g.failOn)); \(waived))"
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>muslcheck: Alpine \(xml(run.target.release))</title>
            <style>
            body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
            h1{font-size:20px;margin:0 0 4px} .sub{color:#555;margin-bottom:12px} .fail{color:#c62828} .pass{color:#2e7d32}
            .bar{display:flex;height:26px;border-radius:4px;overflow:hidden;margin:8px 0 4px;max-width:900px}
            .bar div{color:#fff;font-size:12px;line-height:26px;text-align:center;white-space:nowrap;overflow:hidden}
            .legend span{display:inline-block;margin-right:14px} .dot{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}
            .controls{margin:16px 0 8px;display:flex;gap:8px;flex-wrap:wrap;align-items:center} input,select,button{font:inherit;padding:3px 8px}
            .root{color:#555;margin:4px 0} .root code{background:#f0f0f0;padding:1px 4px}
            table{border-collapse:collapse;width:100%;table-layout:fixed} th,td{border-bottom:1px solid #ddd;padding:5px 8px;text-align:left;vertical-align:top}
            th{cursor:pointer;background:#f5f5f5;user-select:none} th:after{content:" \\2195";color:#aaa}
            col.c-file{width:38%} col.c-v{width:11.5em} col.c-why{width:30%}
            td.path{font-family:ui-monospace,monospace;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
            td.path .dir{color:#777} tr.row{cursor:pointer} tr.row td.path:before{content:"\\25B8 ";color:#999} tr.row.open td.path:before{content:"\\25BE "}
            .v{font-weight:600;white-space:nowrap} .why code{font-size:12px} .sup{color:#777;font-style:italic}
            tr.detail{display:none} tr.detail.open{display:table-row} tr.detail td{background:#fafafa}
            tr.group td{background:#eef2f7;font-weight:600}
            pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:0;font-size:12px} .apk{font-family:ui-monospace,monospace;background:#f0f0f0;padding:4px 8px}
            </style></head><body>
            <h1>muslcheck: Alpine \(xml(run.target.release))</h1>
            <div class="sub">musl \(xml(run.target.musl)), gcompat \(xml(run.target.gcompat)); \(s.files) files, \(s.assessed) assessed, \(s.skipped) skipped, \(s.errors) unreadable; \(gateText)</div>
            <div class="bar" id="chart">
            """
    }

    /// The bar of verdicts (each as wide as its share of the assessed files) and its legend.
    static func chart(_ counts: [Verdict: Int], assessed: Int) -> String {
        var out = ""
        for (verdict, color) in colors where (counts[verdict] ?? 0) > 0 {
            let n = counts[verdict] ?? 0
            out +=
                "<div style=\"width:\(Double(n) * 100 / Double(assessed))%;background:\(color)\" title=\"\(verdict.rawValue): \(n)\">\(verdict.rawValue) \(n)</div>"
        }
        out += "</div><div class=\"legend\">"
        for (verdict, color) in colors {
            out +=
                "<span><i class=\"dot\" style=\"background:\(color)\"></i>\(verdict.rawValue): \(counts[verdict] ?? 0)</span>"
        }
        return out + "</div>\n"
    }

    /// The filter box, the verdict and grouping choices, and the expand button.
    static let controls = """
        <div class="controls"><input id="q" type="search" placeholder="filter by path, symbol, library" size="36">
        <select id="verdict"><option value="">all verdicts</option><option>needs-rebuild</option><option>needs-gcompat</option><option>needs-libc6-compat</option><option>runs</option><option>error</option><option>skipped</option><option value="failing">failing the gate</option><option value="suppressed">set aside by policy or baseline</option></select>
        <label>group by <select id="group"><option value="">nothing</option><option value="cause">cause</option><option value="fix">fix</option></select></label>
        <button id="expand" type="button">expand all</button><span id="shown"></span></div>

        """

    /// One file's row (path, verdict, blocking reason, fix) and its hidden detail row with the full text.
    static func row(_ run: RunReport, _ i: Int, prefix: String) -> String {
        var out = ""
        let r = run.results[i]
        let verdict = r.assessment?.verdict.rawValue ?? r.status.rawValue
        let color = colors.first { $0.0.rawValue == verdict }?.1 ?? (r.status == .error ? "#c62828" : "#555")
        let shown = String(r.path.dropFirst(prefix.count))
        let cut = shown.lastLiteralRange(of: "/").map { shown.index(after: $0.lowerBound) } ?? shown.startIndex
        let name = String(shown[cut...])
        let dir = String(shown[..<cut])
        var why: String
        var cause: String
        let fix =
            r.assessment.map { a in
                (a.verdict == .needsRebuild ? a.fix?.rebuild : a.fix?.apk)
                    ?? (a.verdict == .runs ? "nothing to do" : "")
            } ?? (r.status == .error ? "check the file" : "")
        if let a = r.assessment {
            let reason = Blocking.reason(a)
            why = reason.isEmpty ? "" : xml(reason)
            cause =
                Blocking.finding(a).map { f in
                    f.rule.rawValue + ((f.symbols.first ?? f.libraries.first).map { ": " + $0 } ?? "")
                } ?? "nothing blocks"
        } else {
            why = xml(r.error ?? "")
            cause = r.status == .error ? "unreadable" : "not judged"
        }
        if let w = r.suppressions.last(where: \.waivesGate) {
            why += " <span class=\"sup\">(passed: \(xml(w.kind.rawValue)) — \(xml(w.reason)))</span>"
        }
        let flags = (run.failing[i] ? " failing" : "") + (r.suppressions.isEmpty ? "" : " suppressed")
        out +=
            "<tr class=\"row\" data-i=\"\(i)\" data-verdict=\"\(xml(verdict))\" data-flags=\"\(flags)\" data-cause=\"\(xml(cause))\" data-fix=\"\(xml(fix))\">"
        out +=
            "<td class=\"path\" title=\"\(xml(r.path))\">\(xml(name)) <span class=\"dir\">\(xml(dir))</span></td><td class=\"v\" style=\"color:\(color)\">\(xml(verdict))</td>"
        out += "<td class=\"why\">\(why)</td><td>\(xml(fix))</td></tr>\n"
        out +=
            "<tr class=\"detail\" id=\"d\(i)\"><td colspan=\"4\"><pre>\(xml(CheckText.file(r)))</pre></td></tr>\n"
        return out
    }

    /// Sorting, filtering, grouping and toggling; nothing else runs in the page.
    static let script = """
        </tbody></table>
        <script>
        (function(){
          var tbody=document.querySelector('#files tbody');
          var rows=Array.prototype.slice.call(tbody.querySelectorAll('tr.row'));
          var order=['skipped','runs','needs-libc6-compat','needs-gcompat','needs-rebuild','error'];
          function detail(r){return document.getElementById('d'+r.dataset.i);}
          function visible(r){
            var q=document.getElementById('q').value.toLowerCase(), v=document.getElementById('verdict').value;
            var okV=!v||(v==='failing'?r.dataset.flags.indexOf('failing')>=0:v==='suppressed'?r.dataset.flags.indexOf('suppressed')>=0:r.dataset.verdict===v);
            return okV&&(!q||r.textContent.toLowerCase().indexOf(q)>=0||detail(r).textContent.toLowerCase().indexOf(q)>=0);
          }
          function layout(){
            var key=document.getElementById('group').value;
            Array.prototype.slice.call(tbody.querySelectorAll('tr.group')).forEach(function(g){g.remove();});
            var groups=[], byKey={}, n=0;
            rows.forEach(function(r){
              var show=visible(r); r.style.display=show?'':'none';
              if(!show){detail(r).classList.remove('open');r.classList.remove('open');return;}
              n++;
              var k=key?r.dataset[key]||'(none)':'';
              if(!byKey.hasOwnProperty(k)){byKey[k]=[];groups.push(k);}
              byKey[k].push(r);
            });
            groups.sort(function(a,b){return byKey[b].length-byKey[a].length;});  // the biggest cause or fix first
            groups.forEach(function(k){
              if(key){var g=document.createElement('tr');g.className='group';var td=document.createElement('td');td.colSpan=4;
                td.textContent=k+' \\u2014 '+byKey[k].length+(byKey[k].length===1?' file':' files');g.appendChild(td);tbody.appendChild(g);}
              byKey[k].forEach(function(r){tbody.appendChild(r);tbody.appendChild(detail(r));});
            });
            rows.forEach(function(r){if(r.style.display==='none'){tbody.appendChild(r);tbody.appendChild(detail(r));}});
            document.getElementById('shown').textContent=n+' of '+rows.length+' files';
          }
          document.getElementById('q').addEventListener('input',layout);
          document.getElementById('verdict').addEventListener('change',layout);
          document.getElementById('group').addEventListener('change',layout);
          rows.forEach(function(r){r.addEventListener('click',function(){detail(r).classList.toggle('open');r.classList.toggle('open');});});
          var expanded=false;
          document.getElementById('expand').addEventListener('click',function(){
            expanded=!expanded; this.textContent=expanded?'collapse all':'expand all';
            rows.forEach(function(r){if(r.style.display!=='none'){detail(r).classList.toggle('open',expanded);r.classList.toggle('open',expanded);}});
          });
          var dir=1;
          document.querySelectorAll('th').forEach(function(th){th.addEventListener('click',function(){
            var k=+th.dataset.k; dir=-dir;
            rows.sort(function(a,b){
              var x=a.children[k].textContent,y=b.children[k].textContent;
              if(k===1){x=order.indexOf(x);y=order.indexOf(y);return (x-y)*dir;}
              return x.localeCompare(y)*dir;
            });
            layout();
          });});
          // A link can ask for a view: #group=cause, #group=fix, #expand, #verdict=needs-rebuild.
          location.hash.replace(/^#/,'').split('&').forEach(function(kv){
            var p=kv.split('='), el=null;
            if(p[0]==='group'||p[0]==='verdict'){el=document.getElementById(p[0]);if(el){el.value=decodeURIComponent(p[1]||'');}}
          });
          layout();
          if(/(^#|&)expand(&|$)/.test(location.hash)){document.getElementById('expand').click();}
        })();
        </script></body></html>

        """
}
