package scim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// Error is a SCIM error response (RFC 7644 §3.12). Every error this package returns is an
// *Error; WriteError sends it as
//
//	{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"..."}
//
// with status as a string, as the RFC's schema and Entra ID's validator require.
//
// Detail describes the rule that was broken and never quotes the request: error messages end
// up in identity providers' provisioning logs and in this service's logs (R-OPS-1), and a
// filter or a PATCH value is typically an email address.
type Error struct {
	Status   int    // HTTP status code
	ScimType string // RFC 7644 §3.12 Table 9, or "" where the RFC defines none (404, 412, 500...)
	Detail   string // a fixed sentence, never request data
}

// scimType values (RFC 7644 §3.12, Table 9).
const (
	ScimTypeInvalidFilter = "invalidFilter"
	ScimTypeTooMany       = "tooMany"
	ScimTypeUniqueness    = "uniqueness"
	ScimTypeMutability    = "mutability"
	ScimTypeInvalidSyntax = "invalidSyntax"
	ScimTypeInvalidPath   = "invalidPath"
	ScimTypeNoTarget      = "noTarget"
	ScimTypeInvalidValue  = "invalidValue"
	ScimTypeInvalidVers   = "invalidVers"
	ScimTypeSensitive     = "sensitive"
)

func (e *Error) Error() string {
	if e.ScimType == "" {
		return fmt.Sprintf("scim: %d: %s", e.Status, e.Detail)
	}
	return fmt.Sprintf("scim: %d %s: %s", e.Status, e.ScimType, e.Detail)
}

// MarshalJSON renders the RFC 7644 §3.12 error message.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType,omitempty"`
		Detail   string   `json:"detail,omitempty"`
	}{[]string{URNError}, strconv.Itoa(e.Status), e.ScimType, e.Detail})
}

// NewError builds an error for the cases the handlers detect themselves. detail must be a
// fixed sentence: never put request data into it.
func NewError(status int, scimType, detail string) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: detail}
}

// NotFound is the answer for an id that names no user, or an erased one (RFC 7644 §3.12).
func NotFound() *Error { return NewError(http.StatusNotFound, "", msgNotFound) }

// Uniqueness is the answer to a create or update that would give two users the same
// userName (RFC 7644 §3.3, §3.12: 409 with scimType uniqueness).
func Uniqueness() *Error { return NewError(http.StatusConflict, ScimTypeUniqueness, msgUniqueness) }

// EmailUniqueness is the answer to a create or update that would give a second user of the
// brand an address another one has: one member per address per brand, which /Schemas
// advertises as emails.value uniqueness "server" (RFC 7643 §2.2, RFC 7644 §3.12).
func EmailUniqueness() *Error {
	return NewError(http.StatusConflict, ScimTypeUniqueness, msgEmailUniqueness)
}

// PreconditionFailed is the answer when If-Match names a version that is no longer current
// (RFC 7644 §3.14, §3.12).
func PreconditionFailed() *Error {
	return NewError(http.StatusPreconditionFailed, "", msgPrecondition)
}

// Unauthorized is the answer without a valid bearer token (RFC 7644 §2, §3.12); WriteError
// adds the WWW-Authenticate challenge of RFC 6750 §3.
func Unauthorized() *Error { return NewError(http.StatusUnauthorized, "", msgUnauthorized) }

// UnsupportedMediaType is the answer to a body that is neither application/scim+json nor
// application/json (see AcceptableContentType).
func UnsupportedMediaType() *Error {
	return NewError(http.StatusUnsupportedMediaType, "", msgMediaType)
}

// PayloadTooLarge is the answer to a body over the handler's limit (RFC 7644 §3.12 lists 413).
func PayloadTooLarge() *Error {
	return NewError(http.StatusRequestEntityTooLarge, "", msgTooLarge)
}

// TooMany is the answer to a filter that would read more users than a request may (RFC 7644
// §3.12: 400 tooMany, "the specified filter yields many more results than the server is
// willing to calculate or process").
func TooMany() *Error { return badRequest(ScimTypeTooMany, msgTooMany) }

// Internal is the answer to anything unexpected; WriteError uses it for errors that are not
// an *Error, so a store error's text never reaches a client.
func Internal() *Error { return NewError(http.StatusInternalServerError, "", msgInternal) }

func badRequest(scimType, detail string) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: scimType, Detail: detail}
}

// atByte adds where in a filter or path the problem is: an offset is no personal data, and it
// tells an integrator which part of the expression to look at.
func atByte(e *Error, pos int) *Error {
	e.Detail = fmt.Sprintf("%s (at byte %d)", e.Detail, pos)
	return e
}

// Every detail this package writes. A test checks that each error detail is one of these
// (plus an optional byte offset), which is what proves that none quotes a request.
const (
	msgNotFound        = "No user with this id."
	msgUniqueness      = "Another user of this brand already has this userName."
	msgEmailUniqueness = "Another user of this brand already has this email address (emails.value): one user per address per brand."
	msgPrecondition    = "The resource has changed since the version given in If-Match."
	msgUnauthorized    = "A valid bearer token is required."
	msgMediaType       = "The request body must be application/scim+json or application/json."
	msgTooLarge        = "The request body is too large."
	msgInternal        = "The request could not be processed."
	msgTooMany         = "The filter needs more users read than a request may: filter with eq on userName, externalId, emails.value or id, which are indexed, or narrow the page."

	msgBodyNotJSON        = "The request body is not valid JSON."
	msgBodyTooDeep        = "The request body is nested deeper than 16 levels."
	msgBodyNotObject      = "The request body must be a JSON object."
	msgDuplicateKey       = "A JSON object names the same attribute twice (attribute names are case-insensitive)."
	msgSchemasNotList     = "The schemas attribute must be an array of strings."
	msgSchemasNoUser      = "The schemas attribute does not list urn:ietf:params:scim:schemas:core:2.0:User."
	msgSchemasNoPatchOp   = "The schemas attribute does not list urn:ietf:params:scim:api:messages:2.0:PatchOp."
	msgSchemasNoSearch    = "The schemas attribute does not list urn:ietf:params:scim:api:messages:2.0:SearchRequest."
	msgUserNameRequired   = "A User must have a non-empty userName (RFC 7643 §4.1.1)."
	msgNotString          = "A string attribute was given a value that is not a string."
	msgNotBoolean         = "A boolean attribute was given a value that is neither true nor false."
	msgNotComplex         = "A complex attribute was given a value that is not a JSON object."
	msgNotMulti           = "A multi-valued attribute was given a value that is neither an array nor an object."
	msgStringTooLong      = "An attribute value is longer than 2048 bytes."
	msgTooManyValues      = "A multi-valued attribute has more than 20 values."
	msgTwoPrimaries       = "At most one value of a multi-valued attribute may be primary (RFC 7643 §2.4)."
	msgOperationsMissing  = "A PATCH request needs an Operations array with at least one operation (RFC 7644 §3.5.2)."
	msgTooManyOperations  = "A PATCH request may carry at most 100 operations."
	msgOperationNotObject = "Each PATCH operation must be a JSON object."
	msgOpUnknown          = "A PATCH operation's op must be add, replace or remove."
	msgPathNotString      = "A PATCH operation's path must be a string."
	msgValueMissing       = "An add or replace operation needs a value (RFC 7644 §3.5.2.1, §3.5.2.3)."
	msgNoPathNotObject    = "An add or replace operation without a path needs an object value (RFC 7644 §3.5.2)."
	msgRemoveNoPath       = "A remove operation needs a path (RFC 7644 §3.5.2.2)."
	msgNoMatchToCreate    = "No value matches the path's filter, and the filter does not say what a new value would be."
	msgReadOnly           = "The path names an attribute that cannot be modified (id, meta, schemas or groups)."
	msgPathTooLong        = "The path is longer than 2048 bytes."
	msgPathSyntax         = "The path is not an attribute path (RFC 7644 §3.5.2, §3.10)."
	msgPathUnknown        = "The path names an attribute that is not part of the User schema."
	msgPathFilterTarget   = "A value filter in a path is only allowed on a multi-valued attribute."
	msgPathSubAfterFilter = "Only a sub-attribute name may follow a path's value filter."

	msgFilterEmpty       = "The filter is empty."
	msgFilterTooLong     = "The filter is longer than 2048 bytes."
	msgFilterTooDeep     = "The filter nests more than 16 levels deep."
	msgFilterTooMany     = "The filter has more than 64 comparisons."
	msgFilterChar        = "The filter contains a character outside a quoted string that SCIM filters do not use."
	msgFilterString      = "A quoted string in the filter is not a valid JSON string."
	msgFilterAttr        = "An attribute path was expected."
	msgFilterUnknownAttr = "The filter names an attribute that is not part of the User schema."
	msgFilterOp          = "A comparison operator (eq, ne, co, sw, ew, gt, lt, ge, le, pr) was expected."
	msgFilterValue       = "A comparison value was expected: a quoted string, a number, true, false or null."
	msgFilterClose       = "A closing parenthesis or bracket is missing or misplaced."
	msgFilterNotParen    = "not must be followed by a parenthesised filter (RFC 7644 §3.4.2.2)."
	msgFilterTrailing    = "The filter continues after a complete expression; and or or was expected."
	msgFilterNested      = "A value filter cannot contain another value filter."
	msgFilterBracket     = "A value filter is only allowed on a complex attribute."
	msgFilterCompare     = "This comparison is not supported for the attribute's type (RFC 7644 §3.4.2.2)."
	msgFilterDateTime    = "A dateTime attribute must be compared with an RFC 3339 date-time string."

	msgParamInteger   = "startIndex and count must be integers."
	msgParamRepeated  = "A query parameter is given more than once."
	msgSearchField    = "A SearchRequest attribute has a value of the wrong type (RFC 7644 §3.4.3)."
	msgAttributesList = "attributes and excludedAttributes must be lists of attribute names."
)

var detailCatalogue = []string{
	msgNotFound, msgUniqueness, msgEmailUniqueness, msgPrecondition, msgUnauthorized, msgMediaType, msgTooLarge, msgInternal, msgTooMany,
	msgBodyNotJSON, msgBodyNotObject, msgDuplicateKey, msgSchemasNotList, msgSchemasNoUser,
	msgSchemasNoPatchOp, msgSchemasNoSearch, msgUserNameRequired, msgNotString, msgNotBoolean,
	msgNotComplex, msgNotMulti, msgStringTooLong, msgTooManyValues, msgTwoPrimaries,
	msgOperationsMissing, msgTooManyOperations, msgOperationNotObject, msgOpUnknown,
	msgPathNotString, msgValueMissing, msgNoPathNotObject, msgRemoveNoPath, msgNoMatchToCreate,
	msgReadOnly, msgPathTooLong, msgPathSyntax, msgPathUnknown, msgPathFilterTarget,
	msgPathSubAfterFilter,
	msgFilterEmpty, msgFilterTooLong, msgFilterTooDeep, msgFilterTooMany, msgFilterChar,
	msgFilterString, msgFilterAttr, msgFilterUnknownAttr, msgFilterOp, msgFilterValue,
	msgFilterClose, msgFilterNotParen, msgFilterTrailing, msgFilterNested, msgFilterBracket,
	msgFilterCompare, msgFilterDateTime,
	msgParamInteger, msgParamRepeated, msgSearchField, msgAttributesList,
}
