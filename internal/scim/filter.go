package scim

import (
	"strings"
	"time"
)

// Limits on a filter (RFC 7644 §3.4.2.2 sets none). Entra ID and Okta send one comparison;
// these bound the work a hostile filter can cause and the parser's recursion.
const (
	MaxFilterLength = 2048 // bytes
	MaxFilterDepth  = 16   // nested parentheses, not and value filters
	MaxFilterTerms  = 64   // comparisons
)

// Filter is a parsed SCIM filter (RFC 7644 §3.4.2.2). The zero Filter is "no filter": it
// matches every user and renders as "".
//
// Attribute names and operators are case-insensitive; attribute paths may be URN-qualified
// ("urn:ietf:params:scim:schemas:core:2.0:User:userName"). String comparisons follow the
// attribute's caseExact: userName, emails and names compare case-insensitively, id and
// externalId exactly (RFC 7643 §3.1, §4.1, §7). A multi-valued attribute matches when any of
// its values does; "emails co x" compares emails.value. A comparison value is a JSON string,
// number, true, false or null; an unquoted word where a value must stand is read as a string
// (userName eq alice@example.test), as some clients send, except and, or and not. For a
// boolean attribute the strings "true"/"false" are read as booleans. A dateTime (meta.created,
// meta.lastModified) compares chronologically with an RFC 3339 string.
//
// Attributes of the User schema that this service does not keep (phoneNumbers, the
// enterprise extension...) are valid and unassigned: pr and eq never match them, ne always
// does. Unknown attributes, and comparisons the RFC rules out (gt on a boolean, co on a
// dateTime, a value filter inside a value filter per erratum 4690), are refused with
// scimType invalidFilter.
//
// One extension: a value filter followed by a sub-attribute comparison,
// emails[type eq "work"].value eq "x", which Entra ID sends when that attribute is the one
// it matches users on, is read as emails[type eq "work" and value eq "x"].
type Filter struct{ root node }

// ParseFilter parses the "filter" query parameter or SearchRequest member. Errors are *Error
// with status 400 and scimType invalidFilter; they give a byte offset, never the filter.
func ParseFilter(s string) (Filter, error) {
	if len(s) > MaxFilterLength {
		return Filter{}, badRequest(ScimTypeInvalidFilter, msgFilterTooLong)
	}
	if strings.TrimSpace(s) == "" {
		return Filter{}, badRequest(ScimTypeInvalidFilter, msgFilterEmpty)
	}
	p := &parser{lx: lexer{src: s}, scimType: ScimTypeInvalidFilter}
	p.advance()
	n := p.parseOr()
	if p.err == nil && p.tok.kind != tEOF {
		if p.tok.kind == tRParen || p.tok.kind == tRBrack {
			p.fail(msgFilterClose, p.tok.pos)
		} else {
			p.fail(msgFilterTrailing, p.tok.pos)
		}
	}
	if p.err != nil {
		return Filter{}, p.err
	}
	return Filter{n}, nil
}

// IsZero reports whether f is the zero Filter (no filter).
func (f Filter) IsZero() bool { return f.root == nil }

// Match reports whether u satisfies the filter.
func (f Filter) Match(u User) bool {
	if f.root == nil {
		return true
	}
	return f.root.match(&scope{u: &u})
}

// String renders the filter canonically: attribute paths in their schema spelling,
// operators in lower case, values as JSON, parentheses only where precedence needs them.
// ParseFilter(f.String()) is the same filter. It contains the filter's values, so it is no
// text for a log: use Redacted.
func (f Filter) String() string {
	if f.root == nil {
		return ""
	}
	return string(f.root.appendTo(nil, false))
}

// Redacted renders the filter's shape with every value replaced by "?", e.g.
// `userName eq ?`: what a log line may say about a request (R-OPS-1).
func (f Filter) Redacted() string {
	if f.root == nil {
		return ""
	}
	return string(f.root.appendTo(nil, true))
}

// Equality reports whether the filter is exactly one eq comparison of userName, externalId
// or id with a string, the filter every identity provider sends to find a user before it
// creates one (Entra ID: userName and externalId; Okta: userName). attr is the canonical
// name ("userName", "externalId" or "id") and value the string to look up, so the handler
// can use an index instead of scanning: the users it finds are exactly the matches.
//
// userName is caseExact false (RFC 7643 §4.1.1): the lookup must fold case (Okta and Entra
// ID may send a different case than they created). externalId and id are caseExact.
func (f Filter) Equality() (attr, value string, ok bool) {
	n, isCmp := f.root.(*cmpNode)
	if !isCmp || n.inElem || n.sub != nil || n.op != opEq || n.val.kind != vString && n.val.kind != vNumber {
		return "", "", false
	}
	switch n.top.id {
	case attrUserName, attrExternalID, attrIDAttr:
		return n.top.name, n.val.s, true
	}
	return "", "", false
}

// IndexKey is an equality that a filter implies and an index can answer: Attr is "id",
// "userName", "externalId" or "emails.value", and Value the string compared with, as given.
type IndexKey struct {
	Attr, Value string
}

// IndexKeys reports keys such that every user the filter matches holds at least one of them:
// its Attr equals Value under the attribute's caseExact (userName and emails.value fold case;
// id and externalId do not). A handler can then read the users the keys find through indexes
// and keep those Match accepts, instead of reading every user. ok is false when no such keys
// follow from the filter (ne, co, not, an or with an unkeyed side, other attributes...).
//
// An eq comparison of those attributes with a string or a number is a key; emails eq and
// emails[value eq ...] (inside and, as Entra ID sends emails[type eq "work"].value eq) are
// emails.value keys; an "and" takes the keys of the side with fewer, an "or" needs keys on
// both sides and takes them all. There are at most MaxFilterTerms keys.
func (f Filter) IndexKeys() (keys []IndexKey, ok bool) {
	keys = indexKeys(f.root, false)
	return keys, keys != nil
}

// indexKeys is IndexKeys of one node; nil when it has none. inEmails is true inside a value
// filter of emails.
func indexKeys(n node, inEmails bool) []IndexKey {
	switch n := n.(type) {
	case *cmpNode:
		if n.op != opEq || n.val.kind != vString && n.val.kind != vNumber {
			return nil
		}
		switch {
		case n.inElem:
			if inEmails && n.eff.id == attrEmailValue {
				return []IndexKey{{"emails.value", n.val.s}}
			}
		case n.top.id == attrEmails && n.eff.id == attrEmailValue:
			return []IndexKey{{"emails.value", n.val.s}}
		case n.eff == n.top && (n.top.id == attrUserName || n.top.id == attrExternalID || n.top.id == attrIDAttr):
			return []IndexKey{{n.top.name, n.val.s}}
		}
	case *valueNode:
		if n.top.id == attrEmails {
			return indexKeys(n.x, true)
		}
	case *logNode:
		l, r := indexKeys(n.l, inEmails), indexKeys(n.r, inEmails)
		switch {
		case !n.and && (l == nil || r == nil):
			return nil
		case !n.and:
			return append(l, r...)
		case l == nil || r != nil && len(r) < len(l):
			return r
		}
		return l
	}
	return nil // not: its matches hold no key
}

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opCo
	opSw
	opEw
	opGt
	opLt
	opGe
	opLe
	opPr
)

var opNames = [...]string{"eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le", "pr"}

type valKind uint8

const (
	vString valKind = iota
	vNumber
	vBool
	vNull
	vTime
)

type compValue struct {
	kind valKind
	s    string // the string, a number's literal text, or a dateTime as given
	fold string // s in lower case, for attributes that are not caseExact
	b    bool
	t    time.Time
}

// node is a filter expression.
type node interface {
	match(s *scope) bool
	appendTo(b []byte, redact bool) []byte
	prec() int // 1 or, 2 and, 3 everything else
}

// scope is what a comparison reads: the user, or inside a value filter one of its values.
type scope struct {
	u     *User
	name  *Name
	email *Email
	addr  *Address
}

// cmpNode is attrExp: attrPath "pr" / attrPath compareOp compValue.
type cmpNode struct {
	top    *attrDef // the top-level attribute (inside a value filter: the filtered one)
	sub    *attrDef // the sub-attribute named, or nil
	eff    *attrDef // the attribute compared: sub, top, or top's "value" sub-attribute
	inElem bool     // inside a value filter: sub is relative to the value being tested
	op     cmpOp
	val    compValue
}

// logNode is logExp: FILTER ("and" / "or") FILTER.
type logNode struct {
	and  bool
	l, r node
}

// notNode is "not" "(" FILTER ")".
type notNode struct{ x node }

// valueNode is valuePath: attrPath "[" valFilter "]".
type valueNode struct {
	top *attrDef
	x   node
}

func (n *cmpNode) prec() int   { return 3 }
func (n *notNode) prec() int   { return 3 }
func (n *valueNode) prec() int { return 3 }
func (n *logNode) prec() int {
	if n.and {
		return 2
	}
	return 1
}

func (n *logNode) match(s *scope) bool {
	if n.and {
		return n.l.match(s) && n.r.match(s)
	}
	return n.l.match(s) || n.r.match(s)
}

func (n *notNode) match(s *scope) bool { return !n.x.match(s) }

func (n *valueNode) match(s *scope) bool {
	if !n.top.supported() {
		return false
	}
	u := s.u
	switch n.top.id {
	case attrEmails:
		for i := range u.Emails {
			if n.x.match(&scope{email: &u.Emails[i]}) {
				return true
			}
		}
	case attrAddresses:
		for i := range u.Addresses {
			if n.x.match(&scope{addr: &u.Addresses[i]}) {
				return true
			}
		}
	case attrName:
		return u.Name != Name{} && n.x.match(&scope{name: &u.Name})
	}
	return false
}

// attrVal is one value of an attribute, for a comparison.
type attrVal struct {
	present bool
	s       string
	b       bool
	t       time.Time
}

func strVal(s string) attrVal { return attrVal{present: s != "", s: s} }

func elemVal[T elem, P elemPtr[T]](e P, d *attrDef) attrVal {
	if p := e.str(d.id); p != nil {
		return strVal(*p)
	}
	if p := e.flag(d.id); p != nil {
		// false is how an unassigned primary reads (RFC 7643 §2.4), and is never rendered.
		return attrVal{present: *p, b: *p}
	}
	return attrVal{}
}

func (n *cmpNode) match(s *scope) bool {
	if !n.eff.supported() {
		return n.test(attrVal{})
	}
	if n.inElem {
		switch {
		case s.email != nil:
			return n.test(elemVal(s.email, n.eff))
		case s.addr != nil:
			return n.test(elemVal(s.addr, n.eff))
		case s.name != nil:
			return n.test(elemVal(s.name, n.eff))
		}
		return false
	}
	u := s.u
	switch n.top.id {
	case attrEmails:
		if n.eff == n.top {
			return len(u.Emails) > 0 // emails pr
		}
		for i := range u.Emails {
			if n.test(elemVal(&u.Emails[i], n.eff)) {
				return true
			}
		}
		return false
	case attrAddresses:
		if n.eff == n.top {
			return len(u.Addresses) > 0
		}
		for i := range u.Addresses {
			if n.test(elemVal(&u.Addresses[i], n.eff)) {
				return true
			}
		}
		return false
	case attrName:
		if n.eff == n.top {
			return u.Name != Name{}
		}
		return n.test(elemVal(&u.Name, n.eff))
	case attrMeta:
		return n.test(metaVal(u, n.eff))
	case attrActive:
		if u.Active == nil {
			return n.test(attrVal{})
		}
		return n.test(attrVal{present: true, b: *u.Active})
	case attrIDAttr:
		return n.test(strVal(u.ID))
	case attrSchemas:
		return n.test(strVal(URNUser))
	}
	if p := userString(u, n.top.id); p != nil {
		return n.test(strVal(*p))
	}
	return n.test(attrVal{})
}

func metaVal(u *User, d *attrDef) attrVal {
	switch d.id {
	case attrMeta:
		return attrVal{present: true}
	case attrMetaResourceType:
		return strVal("User")
	case attrMetaCreated:
		return attrVal{present: !u.Meta.Created.IsZero(), t: u.Meta.Created}
	case attrMetaLastModified:
		return attrVal{present: !u.Meta.LastModified.IsZero(), t: u.Meta.LastModified}
	case attrMetaLocation:
		return strVal(u.Meta.Location)
	case attrMetaVersion:
		if u.Meta.Version == "" {
			return attrVal{}
		}
		return strVal(ETag(u.Meta.Version))
	}
	return attrVal{}
}

// test applies the operator to one value (RFC 7644 §3.4.2.2, Table 3). An unassigned value
// matches "pr" never, "eq null" and "ne" anything else always.
func (n *cmpNode) test(v attrVal) bool {
	if n.op == opPr {
		return v.present
	}
	if n.val.kind == vNull {
		return v.present == (n.op == opNe)
	}
	if !v.present {
		return n.op == opNe
	}
	switch n.eff.typ {
	case typeBoolean:
		return (v.b == n.val.b) == (n.op == opEq)
	case typeDateTime:
		return ordered(v.t.Compare(n.val.t), n.op)
	}
	a, b := v.s, n.val.s
	if !n.eff.caseExact {
		a, b = strings.ToLower(a), n.val.fold
	}
	switch n.op {
	case opCo:
		return strings.Contains(a, b)
	case opSw:
		return strings.HasPrefix(a, b)
	case opEw:
		return strings.HasSuffix(a, b)
	}
	return ordered(strings.Compare(a, b), n.op)
}

func ordered(c int, op cmpOp) bool {
	switch op {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opGt:
		return c > 0
	case opGe:
		return c >= 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	}
	return false
}

func (n *logNode) appendTo(b []byte, redact bool) []byte {
	b = appendChild(b, n.l, n.l.prec() < n.prec(), redact)
	if n.and {
		b = append(b, " and "...)
	} else {
		b = append(b, " or "...)
	}
	// The parser groups left to right, so a right operand of the same precedence came
	// from parentheses and keeps them.
	return appendChild(b, n.r, n.r.prec() <= n.prec(), redact)
}

func appendChild(b []byte, x node, paren, redact bool) []byte {
	if !paren {
		return x.appendTo(b, redact)
	}
	b = append(b, '(')
	b = x.appendTo(b, redact)
	return append(b, ')')
}

func (n *notNode) appendTo(b []byte, redact bool) []byte {
	b = append(b, "not ("...)
	b = n.x.appendTo(b, redact)
	return append(b, ')')
}

func (n *valueNode) appendTo(b []byte, redact bool) []byte {
	b = append(b, n.top.fullName()...)
	b = append(b, '[')
	b = n.x.appendTo(b, redact)
	return append(b, ']')
}

func (n *cmpNode) appendTo(b []byte, redact bool) []byte {
	switch {
	case n.inElem:
		b = append(b, n.sub.name...)
	case n.sub != nil:
		b = append(b, n.sub.fullName()...)
	default:
		b = append(b, n.top.fullName()...)
	}
	b = append(b, ' ')
	b = append(b, opNames[n.op]...)
	if n.op == opPr {
		return b
	}
	b = append(b, ' ')
	if redact {
		return append(b, '?')
	}
	switch n.val.kind {
	case vNumber:
		return append(b, n.val.s...)
	case vBool:
		if n.val.b {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case vNull:
		return append(b, "null"...)
	}
	return appendString(b, n.val.s)
}

// parser is a recursive-descent parser for the grammar of RFC 7644 §3.4.2.2 (Figure 1, with
// errata 4690 and 7322 for value filters), precedence not > and > or, left to right.
type parser struct {
	lx       lexer
	tok      token
	err      *Error
	scimType string   // invalidFilter for filters, invalidPath for PATCH paths
	parent   *attrDef // inside a value filter: the attribute whose values are filtered
	depth    int
	terms    int
}

func (p *parser) fail(msg string, pos int) {
	if p.err == nil {
		p.err = atByte(badRequest(p.scimType, msg), pos)
	}
}

func (p *parser) advance() {
	if p.err != nil {
		return
	}
	t, le := p.lx.next()
	if le != nil {
		p.fail(le.msg, le.pos)
		p.tok = token{kind: tEOF, pos: le.pos}
		return
	}
	p.tok = t
}

func (p *parser) isWord(w string) bool {
	return p.tok.kind == tWord && equalFold(p.tok.text, w)
}

func (p *parser) parseOr() node {
	l := p.parseAnd()
	for p.err == nil && p.isWord("or") {
		p.advance()
		r := p.parseAnd()
		l = &logNode{and: false, l: l, r: r}
	}
	return l
}

func (p *parser) parseAnd() node {
	l := p.parseUnary()
	for p.err == nil && p.isWord("and") {
		p.advance()
		r := p.parseUnary()
		l = &logNode{and: true, l: l, r: r}
	}
	return l
}

func (p *parser) parseUnary() node {
	if p.err != nil {
		return nil
	}
	switch {
	case p.isWord("not"):
		p.advance()
		if p.tok.kind != tLParen {
			p.fail(msgFilterNotParen, p.tok.pos)
			return nil
		}
		x := p.parseGroup()
		return &notNode{x}
	case p.tok.kind == tLParen:
		return p.parseGroup()
	case p.tok.kind == tWord:
		return p.parseAttrExp()
	}
	p.fail(msgFilterAttr, p.tok.pos)
	return nil
}

func (p *parser) parseGroup() node {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxFilterDepth {
		p.fail(msgFilterTooDeep, p.tok.pos)
		return nil
	}
	p.advance() // (
	x := p.parseOr()
	if p.err == nil && p.tok.kind != tRParen {
		p.fail(msgFilterClose, p.tok.pos)
	}
	p.advance() // )
	return x
}

func (p *parser) parseAttrExp() node {
	word := p.tok
	n := &cmpNode{}
	if p.parent != nil {
		// Inside a value filter, paths are sub-attributes of the filtered attribute.
		if !isAttrName(word.text) {
			p.fail(msgFilterAttr, word.pos)
			return nil
		}
		if n.sub = p.parent.child(word.text); n.sub == nil {
			p.fail(msgFilterUnknownAttr, word.pos)
			return nil
		}
		n.top, n.inElem = p.parent, true
	} else {
		ref, e := resolveAttrPath(word.text)
		switch {
		case e == resolveSyntax:
			p.fail(msgFilterAttr, word.pos)
			return nil
		case e != resolveOK || ref.ext:
			p.fail(msgFilterUnknownAttr, word.pos)
			return nil
		}
		n.top, n.sub = ref.top, ref.sub
	}
	p.advance()
	if p.tok.kind == tLBrack {
		vn := p.parseValuePath(n, word.pos)
		if p.err != nil || p.tok.kind != tWord || !strings.HasPrefix(p.tok.text, ".") {
			return vn
		}
		// emails[type eq "work"].value eq "x": Entra ID filters so when emails[type eq
		// "work"].value is the matching attribute. RFC 7644 allows a sub-attribute after a
		// value filter only in PATCH paths; read it as one more condition on the same value:
		// emails[type eq "work" and value eq "x"].
		c := &cmpNode{top: n.top, inElem: true}
		name := p.tok.text[1:]
		if !isAttrName(name) {
			p.fail(msgFilterAttr, p.tok.pos)
			return nil
		}
		if c.sub = n.top.child(name); c.sub == nil {
			p.fail(msgFilterUnknownAttr, p.tok.pos)
			return nil
		}
		p.advance()
		cmp := p.parseComparison(c)
		if p.err != nil {
			return nil
		}
		v := vn.(*valueNode)
		v.x = &logNode{and: true, l: v.x, r: cmp}
		return v
	}
	return p.parseComparison(n)
}

// parseComparison reads the operator and value that follow an attribute path.
func (p *parser) parseComparison(n *cmpNode) node {
	if p.tok.kind != tWord {
		p.fail(msgFilterOp, p.tok.pos)
		return nil
	}
	op, ok := lookupOp(p.tok.text)
	if !ok {
		p.fail(msgFilterOp, p.tok.pos)
		return nil
	}
	n.op = op
	if p.terms++; p.terms > MaxFilterTerms {
		p.fail(msgFilterTooMany, p.tok.pos)
		return nil
	}
	opPos := p.tok.pos
	p.advance()
	if op != opPr {
		valPos := p.tok.pos
		if !p.parseValue(&n.val) {
			return nil
		}
		opPos = valPos
	}
	if msg := n.check(); msg != "" {
		p.fail(msg, opPos)
		return nil
	}
	return n
}

func (p *parser) parseValuePath(n *cmpNode, pos int) node {
	switch {
	case p.parent != nil:
		p.fail(msgFilterNested, p.tok.pos)
		return nil
	case n.sub != nil || n.top.typ != typeComplex:
		p.fail(msgFilterBracket, p.tok.pos)
		return nil
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxFilterDepth {
		p.fail(msgFilterTooDeep, pos)
		return nil
	}
	p.advance() // [
	p.parent = n.top
	x := p.parseOr()
	p.parent = nil
	if p.err == nil && p.tok.kind != tRBrack {
		p.fail(msgFilterClose, p.tok.pos)
	}
	p.advance() // ]
	if p.err != nil {
		return nil
	}
	return &valueNode{top: n.top, x: x}
}

func lookupOp(w string) (cmpOp, bool) {
	for i, name := range opNames {
		if equalFold(w, name) {
			return cmpOp(i), true
		}
	}
	return 0, false
}

// parseValue reads compValue = false / null / true / number / string (RFC 7644 §3.4.2.2),
// and an unquoted word as a string.
func (p *parser) parseValue(v *compValue) bool {
	switch p.tok.kind {
	case tString:
		*v = compValue{kind: vString, s: p.tok.text}
	case tWord:
		w := p.tok.text
		switch {
		case equalFold(w, "true"), equalFold(w, "false"):
			*v = compValue{kind: vBool, b: equalFold(w, "true")}
		case equalFold(w, "null"):
			*v = compValue{kind: vNull}
		case isJSONNumber(w):
			*v = compValue{kind: vNumber, s: w}
		case equalFold(w, "and"), equalFold(w, "or"), equalFold(w, "not"):
			p.fail(msgFilterValue, p.tok.pos)
			return false
		default:
			*v = compValue{kind: vString, s: w}
		}
	default:
		p.fail(msgFilterValue, p.tok.pos)
		return false
	}
	p.advance()
	return p.err == nil
}

// check settles which attribute is compared and whether the operator and value suit its type
// (RFC 7644 §3.4.2.2: gt/ge/lt/le on a boolean SHALL be invalidFilter), converting the
// value to that type. It returns an error message, or "".
func (n *cmpNode) check() string {
	n.eff = n.top
	if n.sub != nil {
		n.eff = n.sub
	} else if n.top.typ == typeComplex && n.op != opPr {
		// "emails co x" compares emails.value; name has no value to compare.
		if n.eff = n.top.valueSub(); n.eff == nil {
			return msgFilterCompare
		}
	}
	if n.op == opPr {
		return ""
	}
	v := &n.val
	if v.kind == vNull {
		if n.op != opEq && n.op != opNe {
			return msgFilterCompare
		}
		return ""
	}
	switch n.eff.typ {
	case typeBoolean:
		if n.op != opEq && n.op != opNe {
			return msgFilterCompare
		}
		if v.kind == vString {
			b, ok := parseBoolWord(v.s)
			if !ok {
				return msgFilterCompare
			}
			*v = compValue{kind: vBool, b: b}
		}
		if v.kind != vBool {
			return msgFilterCompare
		}
	case typeDateTime:
		if n.op == opCo || n.op == opSw || n.op == opEw {
			return msgFilterCompare
		}
		if v.kind != vString {
			return msgFilterDateTime
		}
		t, err := time.Parse(time.RFC3339Nano, v.s)
		if err != nil {
			return msgFilterDateTime
		}
		v.kind, v.t = vTime, t
	case typeComplex:
		return msgFilterCompare
	default: // string, reference
		if v.kind == vBool {
			return msgFilterCompare
		}
		v.fold = strings.ToLower(v.s)
	}
	return ""
}

// isJSONNumber checks number = [ "-" ] int [ frac ] [ exp ] (RFC 7159 §6).
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}
