// Package jsondepth bounds how deeply a JSON text nests, before any decoder walks it.
//
// encoding/json stops at 10,000 levels, which is far deeper than any body this service
// takes, and a decoder that walks a body level by level (a strict-key check, a SCIM member
// split) pays per level. Check refuses a body nested deeper than a caller's bound in one pass
// over its bytes, allocating nothing, so what reaches a decoder is shallow whatever it holds.
package jsondepth

import "fmt"

// Error is a body nested deeper than Max levels. Its message states the bound, never the
// body.
type Error struct{ Max int }

func (e *Error) Error() string { return fmt.Sprintf("JSON nested deeper than %d levels", e.Max) }

// Check returns an *Error when an object or array of b opens more than max levels deep (the
// outermost value is level 1), and nil otherwise. It counts brackets outside strings and
// checks nothing else: b may still be malformed, which the decoder that follows refuses. A
// decoder tokenizes strings as Check does, so it never sees a deeper level than Check
// counted before the first syntax error.
func Check(b []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			if depth++; depth > max {
				return &Error{Max: max}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}
