/**
 * The page served at `/docs`: a browsable list of the REST operations, read from
 * `/openapi.json` in the browser. Self-contained (no CDN: servers here may have no
 * internet), and every text from the document is set with textContent.
 */
export const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SSO API</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 1000px; padding: 1rem 1.5rem 4rem; color: #1f2328; }
  h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #d0d7de; }
  code, .path, .schema { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.9em; }
  code { background: #f6f8fa; padding: 0 0.25em; border-radius: 4px; }
  details { border: 1px solid #d0d7de; border-radius: 6px; margin: 0.4rem 0; }
  summary { cursor: pointer; padding: 0.4rem 0.6rem; list-style: none; display: flex; gap: 0.6rem; align-items: baseline; }
  details[open] summary { border-bottom: 1px solid #d0d7de; }
  .op { padding: 0.2rem 0.9rem 0.8rem; }
  .verb { font-weight: 700; min-width: 4.2rem; text-align: center; border-radius: 4px; color: #fff; font-size: 0.8em; padding: 0.1rem 0.3rem; }
  .get { background: #1f6feb; } .post { background: #1a7f37; } .put, .patch { background: #9a6700; } .delete { background: #cf222e; }
  .path { font-weight: 600; } .sum { color: #59636e; }
  .public { font-size: 0.75em; border: 1px solid #1a7f37; color: #1a7f37; border-radius: 10px; padding: 0 0.5em; }
  table { border-collapse: collapse; } td, th { text-align: left; padding: 0.15rem 0.8rem 0.15rem 0; vertical-align: top; }
  .schema { white-space: pre-wrap; background: #f6f8fa; padding: 0.5rem; border-radius: 6px; }
  .muted { color: #59636e; }
</style>
</head>
<body>
<h1>SSO API</h1>
<p class="muted">REST routes derived from the protos. Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3).</p>
<div id="intro"></div>
<div id="ops">Loading…</div>
<script>
(function () {
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) rich(e, text);
    return e;
  }
  // Inline \`code\` spans and **bold**, nothing else: every piece is text.
  function rich(parent, text) {
    String(text).split(/(\`[^\`]*\`|\\*\\*[^*]*\\*\\*)/).forEach(function (part) {
      if (/^\`.*\`$/.test(part)) parent.appendChild(el('code', '', undefined)).textContent = part.slice(1, -1);
      else if (/^\\*\\*.*\\*\\*$/.test(part)) parent.appendChild(el('strong', '', undefined)).textContent = part.slice(2, -2);
      else if (part) parent.appendChild(document.createTextNode(part));
    });
  }
  var doc;
  function deref(s) {
    while (s && s.$ref) s = doc.components.schemas[s.$ref.split('/').pop()];
    return s || {};
  }
  function typeOf(s) {
    if (s.allOf) return typeOf(s.allOf[0]);
    if (s.$ref) return s.$ref.split('/').pop().split('.').pop();
    if (s.type === 'array') return typeOf(s.items || {}) + '[]';
    if (s.enum) return s.enum.join(' | ');
    if (s.type === 'object' && s.additionalProperties && s.additionalProperties !== true) return 'map<string, ' + typeOf(s.additionalProperties) + '>';
    return (s.type || 'any') + (s.format ? ' (' + s.format + ')' : '');
  }
  function render(s, indent, seen) {
    s = s.allOf ? s.allOf[0] : s;
    var name = s.$ref ? s.$ref.split('/').pop() : '';
    var target = deref(s);
    if (target.type === 'array') {
      var item = deref(target.items || {});
      var nested = item.type === 'object' && item.properties && indent.length < 12;
      return typeOf(target.items || {}) + '[]' + (nested ? ' of ' + render(target.items, indent, seen) : '');
    }
    if (target.type !== 'object' || !target.properties || seen.indexOf(name) >= 0) return typeOf(s);
    var req = target.required || [];
    var lines = ['{'];
    Object.keys(target.properties).forEach(function (k) {
      var p = target.properties[k];
      lines.push(indent + '  ' + k + (req.indexOf(k) >= 0 ? '*' : '') + ': ' + render(p, indent + '  ', name ? seen.concat(name) : seen));
    });
    lines.push(indent + '}');
    return lines.join('\\n');
  }
  function schemaBlock(parent, title, schema) {
    parent.appendChild(el('h4', '', title));
    parent.appendChild(el('div', 'schema')).textContent = render(schema, '', []);
  }
  function operation(path, verb, op) {
    var d = el('details');
    var s = d.appendChild(el('summary'));
    s.appendChild(el('span', 'verb ' + verb, verb.toUpperCase()));
    s.appendChild(el('span', 'path')).textContent = path;
    s.appendChild(el('span', 'sum', op.summary));
    if (op.security && op.security.length === 0) s.appendChild(el('span', 'public', 'public'));
    var body = d.appendChild(el('div', 'op'));
    (op.description || '').split('\\n\\n').forEach(function (p) { body.appendChild(el('p', '', p)); });
    body.appendChild(el('p', 'muted', 'RPC: \`' + op['x-rpc'] + '\`'));
    if (op.parameters) {
      body.appendChild(el('h4', '', 'Parameters'));
      var t = body.appendChild(el('table'));
      op.parameters.forEach(function (p) {
        var r = t.appendChild(el('tr'));
        r.appendChild(el('td')).appendChild(el('code', '', undefined)).textContent = p.name;
        r.appendChild(el('td', 'muted', p.in + ', ' + typeOf(p.schema) + (p.required ? ', required' : '')));
        r.appendChild(el('td', '', p.description || ''));
      });
    }
    if (op.requestBody) schemaBlock(body, 'Request body (JSON or form)', op.requestBody.content['application/json'].schema);
    var ok = op.responses['200'];
    if (ok && ok.content) schemaBlock(body, 'Response 200', ok.content['application/json'].schema);
    var errors = Object.keys(op.responses).filter(function (c) { return c !== '200'; });
    body.appendChild(el('p', 'muted', 'Errors: ' + errors.map(function (c) {
      var ref = op.responses[c].$ref, res = ref ? doc.components.responses[ref.split('/').pop()] : op.responses[c];
      return c + ' ' + typeOf(res.content['application/json'].schema);
    }).join(', ') + ' (see the Error schema: \`{code, error_code, message, detail}\`)'));
    return d;
  }
  fetch('/openapi.json').then(function (r) { return r.json(); }).then(function (d) {
    doc = d;
    document.getElementById('intro').appendChild(el('p', '', d.info.description));
    var ops = document.getElementById('ops');
    ops.textContent = '';
    (d.tags || []).forEach(function (tag) {
      ops.appendChild(el('h2', '', tag.name));
      if (tag.description) ops.appendChild(el('p', '', tag.description));
      Object.keys(d.paths).forEach(function (path) {
        Object.keys(d.paths[path]).forEach(function (verb) {
          var op = d.paths[path][verb];
          if (op.tags && op.tags[0] === tag.name) ops.appendChild(operation(path, verb, op));
        });
      });
    });
  }).catch(function (e) { document.getElementById('ops').textContent = 'Could not load /openapi.json: ' + e; });
})();
</script>
</body>
</html>
`;
