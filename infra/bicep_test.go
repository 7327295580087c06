//go:build cgo

package infra_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	tree_sitter_bicep "github.com/tree-sitter-grammars/tree-sitter-bicep/bindings/go"
	tree_sitter "github.com/tree-sitter/go-tree-sitter"
)

// This file turns Bicep templates into something the checks can read: a syntax tree per file
// (tree-sitter), and the values of resource bodies, evaluated as far as they are known before
// deployment. Main's parameter defaults flow into its modules, so a module's body is judged
// with the values main gives it. What only Azure knows (resource ids, outputs, uniqueString,
// ...) evaluates to unknown, and the checks treat unknown as "cannot tell" rather than as a
// pass or a failure, except where a rule demands a literal (local auth, TLS).

type node = tree_sitter.Node

// unknown is a value known only at deployment time.
type unknown struct{ expr string }

// template is a string with parts known only at deployment time, written ${expr}.
type template string

// textOf returns a string value, or a template's text.
func textOf(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case template:
		return string(v), true
	}
	return "", false
}

// bicepFile is one parsed template.
type bicepFile struct {
	path string // relative to the project directory, for messages
	abs  string
	src  []byte
	tree *tree_sitter.Tree
	root *node

	params    map[string]*paramDecl
	vars      map[string]*node // name → value expression
	imports   map[string]string
	resources []*resourceDecl
	modules   []*moduleDecl
}

type paramDecl struct {
	name       string
	node       *node
	def        *node // default value, nil if none
	decorators map[string]*node
}

type resourceDecl struct {
	symbol, typ, apiVersion string
	node                    *node
	value                   *node // object, if_statement or for_statement
	existing                bool
}

type moduleDecl struct {
	symbol, target string // target: the module file, relative to the project directory
	node, value    *node
}

func (f *bicepFile) text(n *node) string { return n.Utf8Text(f.src) }
func (f *bicepFile) line(n *node) int    { return int(n.StartPosition().Row) + 1 }

// kids returns n's named children without comments.
func kids(n *node) []*node {
	var out []*node
	for i := uint(0); i < n.NamedChildCount(); i++ {
		c := n.NamedChild(i)
		if k := c.Kind(); k == "comment" || k == "diagnostic_comment" {
			continue
		}
		out = append(out, c)
	}
	return out
}

// walk calls fn on n and every node below it, named or not.
func walk(n *node, fn func(*node)) {
	fn(n)
	for i := uint(0); i < n.ChildCount(); i++ {
		walk(n.Child(i), fn)
	}
}

var bicepLanguage = tree_sitter.NewLanguage(tree_sitter_bicep.Language())

func parseBicep(t testing.TB, abs, rel string) *bicepFile {
	t.Helper()
	src, err := os.ReadFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	p := tree_sitter.NewParser()
	defer p.Close()
	if err := p.SetLanguage(bicepLanguage); err != nil {
		t.Fatal(err)
	}
	tree := p.Parse(src, nil)
	t.Cleanup(tree.Close)
	f := &bicepFile{path: rel, abs: abs, src: src, tree: tree, root: tree.RootNode(),
		params: map[string]*paramDecl{}, vars: map[string]*node{}, imports: map[string]string{}}
	f.index()
	return f
}

// index records the file's declarations. A part the parser could not read is skipped: the
// syntax rule reports it.
func (f *bicepFile) index() {
	for _, st := range kids(f.root) {
		k := kids(st)
		switch st.Kind() {
		case "parameter_declaration":
			if len(k) < 2 {
				continue
			}
			p := &paramDecl{name: f.text(k[0]), node: st, decorators: f.decorators(st)}
			if len(k) > 2 {
				p.def = k[len(k)-1]
			}
			f.params[p.name] = p
		case "variable_declaration":
			if len(k) == 2 {
				f.vars[f.text(k[0])] = k[1]
			}
		case "import_functionality", "import_statement":
			var from string
			var names []string
			for _, c := range k {
				switch c.Kind() {
				case "string":
					from = f.text(c)
				case "identifier":
					names = append(names, f.text(c))
				}
			}
			from = strings.Trim(from, "'")
			for _, n := range names {
				f.imports[n] = filepath.Join(filepath.Dir(f.path), from)
			}
		case "resource_declaration":
			if len(k) < 3 || k[1].Kind() != "string" {
				continue
			}
			typ, version, _ := strings.Cut(strings.Trim(f.text(k[1]), "'"), "@")
			r := &resourceDecl{symbol: f.text(k[0]), typ: typ, apiVersion: version, node: st, value: k[len(k)-1]}
			for i := uint(0); i < st.ChildCount(); i++ {
				if st.Child(i).Kind() == "existing" {
					r.existing = true
				}
			}
			f.resources = append(f.resources, r)
		case "module_declaration":
			if len(k) < 3 || k[1].Kind() != "string" {
				continue
			}
			target := filepath.Join(filepath.Dir(f.path), strings.Trim(f.text(k[1]), "'"))
			f.modules = append(f.modules, &moduleDecl{symbol: f.text(k[0]), target: target, node: st, value: k[len(k)-1]})
		}
	}
}

// decorators returns the decorators written just before a declaration, by name.
func (f *bicepFile) decorators(decl *node) map[string]*node {
	out := map[string]*node{}
	prev := decl.PrevNamedSibling()
	for prev != nil && (prev.Kind() == "comment" || prev.Kind() == "diagnostic_comment") {
		prev = prev.PrevNamedSibling()
	}
	if prev == nil || prev.Kind() != "decorators" {
		return out
	}
	for _, d := range kids(prev) {
		call := d.NamedChild(0)
		if call == nil || call.Kind() != "call_expression" {
			continue
		}
		name := f.text(call.ChildByFieldName("function"))
		name = name[strings.LastIndexByte(name, '.')+1:]
		out[name] = call
	}
	return out
}

// decoratorArgs returns a decorator's argument expressions.
func decoratorArgs(call *node) []*node {
	args := call.ChildByFieldName("arguments")
	if args == nil {
		return nil
	}
	return kids(args)
}

// project is a directory of templates: every *.bicep below it (testdata left out), and one
// instance per way each file is deployed.
type project struct {
	dir       string
	files     map[string]*bicepFile // by path relative to dir
	order     []string
	instances []*instance
}

// instance is a file as deployed: a root file with its parameter defaults, or a module with
// the parameters its caller passes.
type instance struct {
	p      *project
	file   *bicepFile
	params map[string]any // values passed by the caller
	via    string         // how it is deployed, for messages
	vars   map[string]any
	busy   map[string]bool
}

func loadProject(t testing.TB, dir string) *project {
	t.Helper()
	p := &project{dir: dir, files: map[string]*bicepFile{}}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" && path != dir {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".bicep") {
			rel, _ := filepath.Rel(dir, path)
			p.files[rel] = parseBicep(t, path, rel)
			p.order = append(p.order, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(p.order)
	called := map[string]bool{}
	for _, rel := range p.order {
		for _, m := range p.files[rel].modules {
			called[m.target] = true
		}
	}
	for _, rel := range p.order {
		if !called[rel] {
			p.instantiate(p.files[rel], nil, rel, 0)
		}
	}
	return p
}

func (p *project) instantiate(f *bicepFile, params map[string]any, via string, depth int) {
	in := &instance{p: p, file: f, params: params, via: via, vars: map[string]any{}, busy: map[string]bool{}}
	p.instances = append(p.instances, in)
	if depth > 10 {
		return
	}
	for _, m := range f.modules {
		target := p.files[m.target]
		if target == nil {
			continue // the module rule reports it
		}
		for _, b := range in.bodies(m.value) {
			body, _ := in.evalWith(b.locals, b.object).(map[string]any)
			params, _ := body["params"].(map[string]any)
			p.instantiate(target, params, via+" → module "+m.symbol, depth+1)
		}
	}
}

// body is one object a resource or module declaration deploys, with its loop variables.
type body struct {
	locals map[string]any
	object *node
	cond   *node // the if condition, nil if none
}

// bodies expands a declaration's value: one body for an object or a condition (deployed or
// not, the body is still checked), one per element of a known loop, one with unknown loop
// variables otherwise.
func (in *instance) bodies(value *node) []body {
	return in.expand(value, map[string]any{})
}

func (in *instance) expand(value *node, locals map[string]any) []body {
	switch value.Kind() {
	case "object":
		return []body{{locals: locals, object: value}}
	case "if_statement":
		k := kids(value)
		if len(k) < 2 {
			return nil
		}
		out := in.expand(k[len(k)-1], locals)
		for i := range out {
			out[i].cond = k[0]
		}
		return out
	case "for_statement":
		k := kids(value)
		b := value.ChildByFieldName("body")
		if len(k) < 3 || b == nil {
			return nil
		}
		item, index := in.loopNames(k[0])
		coll := in.evalWith(locals, k[1])
		list, ok := coll.([]any)
		if !ok {
			l := withLocals(locals, item, unknown{item}, index, unknown{index})
			return in.expand(b, l)
		}
		var out []body
		for i, v := range list {
			out = append(out, in.expand(b, withLocals(locals, item, v, index, int64(i)))...)
		}
		return out
	}
	return []body{{locals: locals, object: value}}
}

func (in *instance) loopNames(n *node) (item, index string) {
	f := in.file
	if n.Kind() != "for_loop_parameters" {
		return f.text(n), ""
	}
	for _, c := range kids(n) {
		switch c.Kind() {
		case "loop_variable":
			item = f.text(c)
		case "loop_enumerator":
			index = f.text(c)
		}
	}
	return item, index
}

func withLocals(base map[string]any, kv ...any) map[string]any {
	out := make(map[string]any, len(base)+2)
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if name := kv[i].(string); name != "" {
			out[name] = kv[i+1]
		}
	}
	return out
}

// resourceInstance is one resource as deployed, with its evaluated body.
type resourceInstance struct {
	in   *instance
	decl *resourceDecl
	body map[string]any
	node *node
	cond bool
}

func (r *resourceInstance) where() string {
	return fmt.Sprintf("%s:%d", r.in.file.path, r.in.file.line(r.node))
}

// resources returns every resource instance of the project, optionally of one type.
func (p *project) resources(typ string) []*resourceInstance {
	var out []*resourceInstance
	for _, in := range p.instances {
		for _, d := range in.file.resources {
			if typ != "" && !strings.EqualFold(d.typ, typ) {
				continue
			}
			for _, b := range in.bodies(d.value) {
				m, _ := in.evalWith(b.locals, b.object).(map[string]any)
				out = append(out, &resourceInstance{in: in, decl: d, body: m, node: d.node, cond: b.cond != nil})
			}
		}
	}
	return out
}

// get follows a path of keys through nested maps.
func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// ---------------------------------------------------------------- evaluation

func (in *instance) eval(n *node) any { return in.evalWith(nil, n) }

func (in *instance) evalWith(locals map[string]any, n *node) any {
	if n == nil {
		return nil
	}
	f := in.file
	switch n.Kind() {
	case "string":
		return in.evalString(locals, n)
	case "number":
		if v, err := strconv.ParseInt(f.text(n), 10, 64); err == nil {
			return v
		}
		return unknown{f.text(n)}
	case "boolean":
		return f.text(n) == "true"
	case "null":
		return nil
	case "array":
		out := []any{}
		for _, c := range kids(n) {
			switch c.Kind() {
			case "decorators":
			case "for_statement":
				for _, b := range in.expand(c, withLocals(locals)) {
					out = append(out, in.evalWith(b.locals, b.object))
				}
			default:
				out = append(out, in.evalWith(locals, c))
			}
		}
		return out
	case "object":
		out := map[string]any{}
		for _, prop := range kids(n) {
			if prop.Kind() != "object_property" {
				continue
			}
			k := kids(prop)
			if len(k) < 2 {
				continue
			}
			key, _ := textOf(in.evalKey(locals, k[0]))
			out[key] = in.evalWith(locals, k[len(k)-1])
		}
		return out
	case "identifier":
		return in.lookup(locals, f.text(n))
	case "parenthesized_expression":
		if k := kids(n); len(k) == 1 {
			return in.evalWith(locals, k[0])
		}
	case "member_expression":
		obj := in.evalWith(locals, n.ChildByFieldName("object"))
		prop := f.text(n.ChildByFieldName("property"))
		if m, ok := obj.(map[string]any); ok {
			if v, ok := m[prop]; ok {
				return v
			}
		}
	case "subscript_expression":
		obj := in.evalWith(locals, n.ChildByFieldName("object"))
		idx := in.evalWith(locals, n.ChildByFieldName("index"))
		switch o := obj.(type) {
		case []any:
			if i, ok := idx.(int64); ok && i >= 0 && int(i) < len(o) {
				return o[i]
			}
		case map[string]any:
			if s, ok := idx.(string); ok {
				if v, ok := o[s]; ok {
					return v
				}
			}
		}
	case "unary_expression":
		arg := in.evalWith(locals, n.ChildByFieldName("argument"))
		switch op := f.text(n.ChildByFieldName("operator")); {
		case op == "!":
			if b, ok := arg.(bool); ok {
				return !b
			}
		case op == "-":
			if i, ok := arg.(int64); ok {
				return -i
			}
		}
	case "ternary_expression":
		if c, ok := in.evalWith(locals, n.ChildByFieldName("condition")).(bool); ok {
			if c {
				return in.evalWith(locals, n.ChildByFieldName("consequence"))
			}
			return in.evalWith(locals, n.ChildByFieldName("alternative"))
		}
	case "binary_expression":
		return in.evalBinary(locals, n)
	case "for_statement":
		out := []any{}
		for _, b := range in.expand(n, withLocals(locals)) {
			out = append(out, in.evalWith(b.locals, b.object))
		}
		return out
	case "call_expression":
		return in.evalCall(locals, n)
	}
	return unknown{f.text(n)}
}

func (in *instance) evalKey(locals map[string]any, n *node) any {
	if n.Kind() == "string" {
		return in.evalString(locals, n)
	}
	return in.file.text(n)
}

func (in *instance) evalString(locals map[string]any, n *node) any {
	f := in.file
	var b strings.Builder
	known := true
	for i := uint(0); i < n.NamedChildCount(); i++ {
		c := n.NamedChild(i)
		switch c.Kind() {
		case "string_content":
			b.WriteString(f.text(c))
		case "escape_sequence":
			b.WriteString(unescape(f.text(c)))
		case "interpolation":
			var v any = unknown{}
			var expr string
			if k := kids(c); len(k) == 1 {
				v, expr = in.evalWith(locals, k[0]), f.text(k[0])
			}
			switch v := v.(type) {
			case string:
				b.WriteString(v)
			case int64:
				b.WriteString(strconv.FormatInt(v, 10))
			case bool:
				b.WriteString(strconv.FormatBool(v))
			case template:
				b.WriteString(string(v))
				known = false
			default:
				b.WriteString("${" + expr + "}")
				known = false
			}
		}
	}
	if strings.HasPrefix(f.text(n), "'''") {
		s := f.text(n)
		return strings.TrimSuffix(strings.TrimPrefix(s, "'''"), "'''")
	}
	if known {
		return b.String()
	}
	return template(b.String())
}

func unescape(s string) string {
	switch s {
	case `\\`:
		return `\`
	case `\'`:
		return `'`
	case `\n`:
		return "\n"
	case `\r`:
		return "\r"
	case `\t`:
		return "\t"
	case `\$`:
		return "$"
	}
	if strings.HasPrefix(s, `\u{`) {
		if r, err := strconv.ParseInt(strings.Trim(s[2:], "{}"), 16, 32); err == nil {
			return string(rune(r))
		}
	}
	return s
}

func (in *instance) lookup(locals map[string]any, name string) any {
	if v, ok := locals[name]; ok {
		return v
	}
	f := in.file
	if p, ok := f.params[name]; ok {
		if v, ok := in.params[name]; ok {
			return v
		}
		if p.def != nil {
			return in.eval(p.def)
		}
		return unknown{name}
	}
	if expr, ok := f.vars[name]; ok {
		if v, ok := in.vars[name]; ok {
			return v
		}
		if in.busy[name] {
			return unknown{name}
		}
		in.busy[name] = true
		v := in.eval(expr)
		in.busy[name] = false
		in.vars[name] = v
		return v
	}
	if from, ok := in.file.imports[name]; ok {
		if src := in.p.files[from]; src != nil {
			standalone := &instance{p: in.p, file: src, vars: map[string]any{}, busy: map[string]bool{}}
			return standalone.lookup(nil, name)
		}
	}
	return unknown{name}
}

func (in *instance) evalBinary(locals map[string]any, n *node) any {
	l := in.evalWith(locals, n.ChildByFieldName("left"))
	r := in.evalWith(locals, n.ChildByFieldName("right"))
	op := in.file.text(n.ChildByFieldName("operator"))
	_, lu := l.(unknown)
	_, ru := r.(unknown)
	_, lt := l.(template)
	_, rt := r.(template)
	if lu || ru || lt || rt {
		if op == "??" && !lu && l != nil {
			return l
		}
		return unknown{in.file.text(n)}
	}
	switch op {
	case "==":
		return fmt.Sprint(l) == fmt.Sprint(r)
	case "!=":
		return fmt.Sprint(l) != fmt.Sprint(r)
	case "&&", "||":
		lb, ok1 := l.(bool)
		rb, ok2 := r.(bool)
		if ok1 && ok2 {
			if op == "&&" {
				return lb && rb
			}
			return lb || rb
		}
	case "??":
		if l != nil {
			return l
		}
		return r
	}
	return unknown{in.file.text(n)}
}

// evalCall knows the few functions whose result matters to a check; every other call (guid,
// uniqueString, resourceGroup, ...) is known only at deployment.
func (in *instance) evalCall(locals map[string]any, n *node) any {
	f := in.file
	name := f.text(n.ChildByFieldName("function"))
	name = name[strings.LastIndexByte(name, '.')+1:]
	var args []any
	if a := n.ChildByFieldName("arguments"); a != nil {
		for _, c := range kids(a) {
			args = append(args, in.evalWith(locals, c))
		}
	}
	for _, a := range args {
		if _, ok := a.(unknown); ok {
			return unknown{f.text(n)}
		}
	}
	switch {
	case name == "empty" && len(args) == 1:
		switch a := args[0].(type) {
		case nil:
			return true
		case string:
			return a == ""
		case []any:
			return len(a) == 0
		case map[string]any:
			return len(a) == 0
		case template:
			return false
		}
	case name == "string" && len(args) == 1:
		switch a := args[0].(type) {
		case string:
			return a
		case int64:
			return strconv.FormatInt(a, 10)
		case bool:
			return strconv.FormatBool(a)
		}
	case name == "toLower" && len(args) == 1:
		if s, ok := args[0].(string); ok {
			return strings.ToLower(s)
		}
	case name == "union" && len(args) > 0:
		out := map[string]any{}
		for _, a := range args {
			m, ok := a.(map[string]any)
			if !ok {
				return unknown{f.text(n)}
			}
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	case name == "concat" && len(args) > 0:
		var out []any
		for _, a := range args {
			l, ok := a.([]any)
			if !ok {
				return unknown{f.text(n)}
			}
			out = append(out, l...)
		}
		return out
	}
	return unknown{f.text(n)}
}
