package scim

import "strings"

// patchPath is a parsed PATCH path (RFC 7644 §3.5.2): PATH = attrPath / valuePath [subAttr].
//
//	active                                  top
//	name.givenName                          top, sub
//	emails                                  top
//	emails[type eq "work"]                  top, filter
//	emails[type eq "work"].value            top, filter, sub
//	urn:...:core:2.0:User:userName          top
type patchPath struct {
	top    *attrDef
	sub    *attrDef
	filter node // over the values of top, with sub-attributes relative to them
	// ignore: the path names data this service does not keep (an attribute of the User
	// schema it drops, the enterprise extension, another extension schema).
	ignore bool
}

// parsePath parses a PATCH path. Errors are *Error with scimType invalidPath: a path that is
// malformed, or that names something that is not an attribute of the User schema.
func parsePath(s string) (patchPath, *Error) {
	if len(s) > MaxFilterLength {
		return patchPath{}, badRequest(ScimTypeInvalidPath, msgPathTooLong)
	}
	p := &parser{lx: lexer{src: s}, scimType: ScimTypeInvalidPath}
	p.advance()
	if p.err != nil {
		return patchPath{}, p.err
	}
	if p.tok.kind != tWord {
		return patchPath{}, atByte(badRequest(ScimTypeInvalidPath, msgPathSyntax), p.tok.pos)
	}
	word := p.tok
	ref, e := resolveAttrPath(word.text)
	switch e {
	case resolveSyntax:
		return patchPath{}, atByte(badRequest(ScimTypeInvalidPath, msgPathSyntax), word.pos)
	case resolveUnknown:
		return patchPath{}, atByte(badRequest(ScimTypeInvalidPath, msgPathUnknown), word.pos)
	case resolveSchemaOnly:
		// A whole schema as the target: the enterprise extension's object. A bare core URN
		// names no attribute.
		if equalFold(word.text, URNUser) {
			return patchPath{}, atByte(badRequest(ScimTypeInvalidPath, msgPathSyntax), word.pos)
		}
		ref = attrRef{ext: true}
	}
	pp := patchPath{top: ref.top, sub: ref.sub}
	p.advance()
	if p.err == nil && p.tok.kind == tLBrack {
		switch {
		case ref.ext:
			// Another schema's value filter: its attributes are not known here, and nothing
			// in it is kept. Check only that the brackets close.
			if !skipBrackets(p) {
				return patchPath{}, p.err
			}
		case ref.sub != nil || !ref.top.multi || ref.top.typ != typeComplex:
			return patchPath{}, atByte(badRequest(ScimTypeInvalidPath, msgPathFilterTarget), p.tok.pos)
		default:
			n := p.parseValuePath(&cmpNode{top: ref.top}, p.tok.pos)
			if p.err != nil {
				return patchPath{}, p.err
			}
			pp.filter = n.(*valueNode).x
		}
		if p.tok.kind == tWord {
			// The subAttr after a value filter: ".value".
			w := p.tok
			name, ok := strings.CutPrefix(w.text, ".")
			if !ok || !isAttrName(name) {
				return patchPath{}, atByte(badRequest(ScimTypeInvalidPath, msgPathSubAfterFilter), w.pos)
			}
			if !ref.ext {
				if pp.sub = ref.top.child(name); pp.sub == nil {
					return patchPath{}, atByte(badRequest(ScimTypeInvalidPath, msgPathUnknown), w.pos)
				}
			}
			p.advance()
		}
	}
	if p.err != nil {
		return patchPath{}, p.err
	}
	if p.tok.kind != tEOF {
		return patchPath{}, atByte(badRequest(ScimTypeInvalidPath, msgPathSyntax), p.tok.pos)
	}
	pp.ignore = attrRef{top: pp.top, sub: pp.sub, ext: ref.ext}.ignored()
	return pp, nil
}

// skipBrackets consumes a balanced [...] without interpreting it.
func skipBrackets(p *parser) bool {
	depth := 0
	for p.err == nil {
		switch p.tok.kind {
		case tLBrack:
			depth++
		case tRBrack:
			depth--
		case tEOF:
			p.fail(msgFilterClose, p.tok.pos)
			return false
		}
		p.advance()
		if depth == 0 {
			return p.err == nil
		}
	}
	return false
}
