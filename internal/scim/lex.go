package scim

import (
	"encoding/json"
	"unicode/utf8"
)

// The lexer shared by filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2).

type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tLBrack
	tRBrack
	tString // a quoted JSON string; text is the decoded value
	tWord   // anything else between separators: attribute paths, operators, literals
)

type token struct {
	kind tokKind
	pos  int    // byte offset in the input
	text string // decoded string, or the word
}

// lexMsg is a lexer failure; the parser turns it into an *Error of its own scimType.
type lexMsg struct {
	msg string
	pos int
}

type lexer struct {
	src string
	pos int
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// next returns the next token. Outside quoted strings only printable ASCII is allowed: every
// attribute name, operator and unquoted value of the grammar is ASCII, and refusing the rest
// keeps an unquoted value from smuggling bytes that would not survive re-rendering.
func (l *lexer) next() (token, *lexMsg) {
	for l.pos < len(l.src) && isSpace(l.src[l.pos]) {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	switch c := l.src[l.pos]; c {
	case '(':
		l.pos++
		return token{kind: tLParen, pos: start}, nil
	case ')':
		l.pos++
		return token{kind: tRParen, pos: start}, nil
	case '[':
		l.pos++
		return token{kind: tLBrack, pos: start}, nil
	case ']':
		l.pos++
		return token{kind: tRBrack, pos: start}, nil
	case '"':
		return l.str()
	}
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if isSpace(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '"' {
			break
		}
		if c < 0x21 || c > 0x7e {
			return token{}, &lexMsg{msgFilterChar, l.pos}
		}
		l.pos++
	}
	return token{kind: tWord, pos: start, text: l.src[start:l.pos]}, nil
}

// str reads a quoted string with the escapes of JSON (RFC 7644 §3.4.2.2: compValue strings
// follow RFC 7159).
func (l *lexer) str() (token, *lexMsg) {
	start := l.pos
	simple := true
	i := start + 1
	for ; i < len(l.src); i++ {
		c := l.src[i]
		if c == '\\' {
			simple = false
			i++
			continue
		}
		if c == '"' {
			break
		}
		if c < 0x20 || c >= utf8.RuneSelf {
			simple = false
		}
	}
	if i >= len(l.src) {
		return token{}, &lexMsg{msgFilterString, start}
	}
	l.pos = i + 1
	raw := l.src[start:l.pos]
	if simple {
		return token{kind: tString, pos: start, text: raw[1 : len(raw)-1]}, nil
	}
	if !utf8.ValidString(raw) {
		return token{}, &lexMsg{msgFilterString, start}
	}
	var s string
	if json.Unmarshal([]byte(raw), &s) != nil {
		return token{}, &lexMsg{msgFilterString, start}
	}
	return token{kind: tString, pos: start, text: s}, nil
}
