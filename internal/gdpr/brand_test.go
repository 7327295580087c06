package gdpr_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"popsell-gdpr/internal/gdpr"
)

// validTestBrand is a brand every field of which passes Validate.
func validTestBrand() gdpr.Brand {
	return gdpr.Brand{
		ID:            "acme-1",
		Name:          "Acme Fake Brand",
		Pro:           gdpr.ProClassic,
		WebhookSecret: "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))),
		MailjetCallback: gdpr.MailjetCallback{
			Username: "mailjet-fake", PasswordDigest: "h1:" + strings.Repeat("0f", 32),
		},
		Retention: gdpr.DefaultRetention(),
		Fields:    gdpr.FieldRules{"lastName": gdpr.FieldRequired, "title": gdpr.FieldNotAsked},
		Status:    gdpr.BrandActive,
	}
}

func whsec(n int) string {
	return "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat("s", n)))
}

func TestBrandValidate(t *testing.T) {
	require.NoError(t, validTestBrand().Validate(), "the fixture must be valid")

	tests := []struct {
		name   string
		edit   func(*gdpr.Brand)
		wantOK bool
	}{
		{"valid_brand", func(*gdpr.Brand) {}, true},
		{"id_single_char", func(b *gdpr.Brand) { b.ID = "a" }, true},
		{"id_digits", func(b *gdpr.Brand) { b.ID = "2024" }, true},
		{"id_63_chars", func(b *gdpr.Brand) { b.ID = gdpr.BrandID(strings.Repeat("a", 63)) }, true},
		{"id_empty", func(b *gdpr.Brand) { b.ID = "" }, false},
		{"id_upper_case", func(b *gdpr.Brand) { b.ID = "Acme" }, false},
		{"id_leading_hyphen", func(b *gdpr.Brand) { b.ID = "-x" }, false},
		{"id_trailing_hyphen", func(b *gdpr.Brand) { b.ID = "x-" }, false},
		{"id_underscore", func(b *gdpr.Brand) { b.ID = "a_b" }, false},
		{"id_slash", func(b *gdpr.Brand) { b.ID = "a/b" }, false},
		{"id_dot_dot", func(b *gdpr.Brand) { b.ID = ".." }, false},
		{"id_space", func(b *gdpr.Brand) { b.ID = "a b" }, false},
		{"id_trailing_newline", func(b *gdpr.Brand) { b.ID = "acme\n" }, false},
		{"id_64_chars", func(b *gdpr.Brand) { b.ID = gdpr.BrandID(strings.Repeat("a", 64)) }, false},
		{"name_empty", func(b *gdpr.Brand) { b.Name = "" }, false},
		{"name_201_chars", func(b *gdpr.Brand) { b.Name = strings.Repeat("n", 201) }, false},
		{"R-ROLE_pro_2", func(b *gdpr.Brand) { b.Pro = 2 }, true},
		{"R-ROLE_pro_3", func(b *gdpr.Brand) { b.Pro = 3 }, true},
		{"R-ROLE_pro_4", func(b *gdpr.Brand) { b.Pro = 4 }, true},
		{"R-ROLE_pro_1_refused", func(b *gdpr.Brand) { b.Pro = 1 }, false},
		{"R-ROLE_pro_5_refused", func(b *gdpr.Brand) { b.Pro = 5 }, false},
		{"R-SSO-3_no_webhook_secret", func(b *gdpr.Brand) { b.WebhookSecret = "" }, true},
		{"R-SSO-3_webhook_secret_24_bytes", func(b *gdpr.Brand) { b.WebhookSecret = whsec(24) }, true},
		{"R-SSO-3_webhook_secret_64_bytes", func(b *gdpr.Brand) { b.WebhookSecret = whsec(64) }, true},
		{"R-SSO-3_webhook_secret_without_whsec_prefix", func(b *gdpr.Brand) {
			b.WebhookSecret = strings.TrimPrefix(whsec(32), "whsec_")
		}, false},
		{"R-SSO-3_webhook_secret_bad_base64", func(b *gdpr.Brand) { b.WebhookSecret = "whsec_not*base64!" }, false},
		{"R-SSO-3_webhook_secret_23_bytes", func(b *gdpr.Brand) { b.WebhookSecret = whsec(23) }, false},
		{"R-SSO-3_webhook_secret_16_bytes", func(b *gdpr.Brand) { b.WebhookSecret = whsec(16) }, false},
		{"R-SSO-3_webhook_secret_65_bytes", func(b *gdpr.Brand) { b.WebhookSecret = whsec(65) }, false},
		{"R-MAIL-1_no_mailjet_callback", func(b *gdpr.Brand) { b.MailjetCallback = gdpr.MailjetCallback{} }, true},
		{"R-MAIL-1_mailjet_callback_username_only", func(b *gdpr.Brand) { b.MailjetCallback.PasswordDigest = "" }, false},
		{"R-MAIL-1_mailjet_callback_password_only", func(b *gdpr.Brand) { b.MailjetCallback.Username = "" }, false},
		{"R-RET-1_warnings_not_ordered", func(b *gdpr.Brand) {
			b.Retention.InactivityWarning1, b.Retention.InactivityWarning2 = gdpr.Period{Days: 15}, gdpr.Period{Days: 30}
		}, false},
		{"R-RET-1_equal_warnings", func(b *gdpr.Brand) {
			b.Retention.InactivityWarning1, b.Retention.InactivityWarning2 = gdpr.Period{Days: 15}, gdpr.Period{Days: 15}
		}, false},
		{"R-RET-1_first_warning_as_long_as_the_inactivity", func(b *gdpr.Brand) {
			b.Retention.Inactivity = gdpr.Period{Days: 30}
		}, false},
		{"R-RET-1_shorter_inactivity_with_room_for_warnings", func(b *gdpr.Brand) {
			b.Retention.Inactivity = gdpr.Period{Years: 1}
		}, true},
		{"R-TEN-2_zero_duration_refused", func(b *gdpr.Brand) { b.Retention.ErasureGrace = gdpr.Period{} }, false},
		{"R-TEN-2_negative_duration_refused", func(b *gdpr.Brand) { b.Retention.OptedOutContact = gdpr.Period{Years: -1} }, false},
		{"R-TEN-2_three_years_is_the_longest_retention", func(b *gdpr.Brand) { b.Retention.UnconfirmedSignup = gdpr.Period{Years: 3} }, true},
		{"R-TEN-2_past_three_years_refused", func(b *gdpr.Brand) { b.Retention.UnconfirmedSignup = gdpr.Period{Years: 3, Days: 1} }, false},
		{"R-TEN-2_9000_years_refused", func(b *gdpr.Brand) { b.Retention.UnconfirmedSignup = gdpr.Period{Years: 9000} }, false},
		{"R-ERASE-5_grace_of_90_days_accepted", func(b *gdpr.Brand) { b.Retention.ErasureGrace = gdpr.Period{Days: 90} }, true},
		{"R-ERASE-5_grace_past_90_days_refused", func(b *gdpr.Brand) { b.Retention.ErasureGrace = gdpr.Period{Years: 999999999} }, false},
		{"R-SIGNUP-2_link_of_30_days_accepted", func(b *gdpr.Brand) { b.Retention.OptInTokenTTL = gdpr.Period{Days: 30} }, true},
		{"R-SIGNUP-2_link_past_30_days_refused", func(b *gdpr.Brand) { b.Retention.OptInTokenTTL = gdpr.Period{Exact: 721 * time.Hour} }, false},
		{"mail_sender_and_template", func(b *gdpr.Brand) {
			b.Mail = gdpr.MailSettings{From: gdpr.Sender{Email: "hello@acme.example", Name: "Acme"}, Templates: map[gdpr.MailKind]int64{gdpr.MailSignupConfirmation: 1}}
		}, true},
		{"mail_sender_not_an_address", func(b *gdpr.Brand) { b.Mail.From = gdpr.Sender{Email: "acme", Name: "Acme"} }, false},
		{"mail_template_unknown_kind", func(b *gdpr.Brand) { b.Mail.Templates = map[gdpr.MailKind]int64{"newsletter": 1} }, false},
		{"mail_template_not_positive", func(b *gdpr.Brand) { b.Mail.Templates = map[gdpr.MailKind]int64{gdpr.MailAccountExists: 0} }, false},
		{"R-SIGNUP-6_unknown_field", func(b *gdpr.Brand) { b.Fields = gdpr.FieldRules{"shoeSize": gdpr.FieldRequired} }, false},
		{"R-SIGNUP-6_bad_requirement", func(b *gdpr.Brand) { b.Fields = gdpr.FieldRules{"alias": "mandatory"} }, false},
		{"R-SIGNUP-6_every_known_field", func(b *gdpr.Brand) {
			b.Fields = gdpr.FieldRules{}
			for _, f := range gdpr.SignupFields {
				b.Fields[f] = gdpr.FieldRules(nil).Requirement(f) // a choice the guide allows each
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := validTestBrand()
			tt.edit(&b)
			err := b.Validate()
			if tt.wantOK {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
		})
	}

	t.Run("R-TEN-2_an_overlong_period_names_its_bound", func(t *testing.T) {
		b := validTestBrand()
		b.Retention.UnconfirmedSignup = gdpr.Period{Years: 9000}
		require.ErrorContains(t, b.Validate(), "retention.unconfirmedSignup must be a positive duration of at most P3Y")
	})
	t.Run("R-OPS-1_an_unknown_field_name_is_not_echoed", func(t *testing.T) {
		b := validTestBrand()
		b.Fields = gdpr.FieldRules{"someone@example.test": gdpr.FieldRequired}
		require.NotContains(t, b.Validate().Error(), "someone")
	})
	t.Run("R-OPS-1_messages_never_echo_secrets", func(t *testing.T) {
		b := validTestBrand()
		b.WebhookSecret = "whsec_FAKESECRET"
		err := b.Validate()
		require.Error(t, err)
		require.NotContains(t, err.Error(), "FAKESECRET")
	})
}

func TestDefaultRetention(t *testing.T) {
	r := gdpr.DefaultRetention()
	tests := []struct {
		name string
		got  gdpr.Period
		want gdpr.Period
	}{
		{"R-RET-1_member_inactivity_3_years", r.Inactivity, gdpr.Period{Years: 3}},
		{"R-RET-1_first_warning_30_days", r.InactivityWarning1, gdpr.Period{Days: 30}},
		{"R-RET-1_second_warning_15_days", r.InactivityWarning2, gdpr.Period{Days: 15}},
		{"R-RET-2_external_inactivity_3_years", r.ExternalInactivity, gdpr.Period{Years: 3}},
		{"R-RET-3_contact_inactivity_3_years", r.ContactInactivity, gdpr.Period{Years: 3}},
		{"R-RET-4_new_contact_invitation_30_days", r.NewContactInvitation, gdpr.Period{Days: 30}},
		{"R-RET-5_and_6_invitation_pending_15_days", r.InvitationPending, gdpr.Period{Days: 15}},
		{"R-RET-7_opted_out_contact_1_year", r.OptedOutContact, gdpr.Period{Years: 1}},
		{"R-ERASE-5_grace_7_days", r.ErasureGrace, gdpr.Period{Days: 7}},
		{"R-ERASE-8_suspended_program_6_months", r.SuspendedProgram, gdpr.Period{Months: 6}},
		{"R-SIGNUP-2_opt-in_token_24_hours", r.OptInTokenTTL, gdpr.Period{Exact: 24 * time.Hour}},
		{"R-SIGNUP-2_unconfirmed_signup_15_days", r.UnconfirmedSignup, gdpr.Period{Days: 15}},
	}
	for _, tt := range tests {
		t.Run("R-TEN-2/"+tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.got)
		})
	}
	t.Run("R-TEN-2_defaults_are_valid", func(t *testing.T) {
		require.NoError(t, r.Validate())
	})
	t.Run("R-TEN-2_defaults_are_a_fresh_value", func(t *testing.T) {
		a := gdpr.DefaultRetention()
		a.Inactivity = gdpr.Period{Years: 1}
		require.Equal(t, gdpr.Period{Years: 3}, gdpr.DefaultRetention().Inactivity)
	})
}

func TestRetentionWithDefaults(t *testing.T) {
	t.Run("R-TEN-2_zero_retention_becomes_the_defaults", func(t *testing.T) {
		require.Equal(t, gdpr.DefaultRetention(), gdpr.Retention{}.WithDefaults())
	})
	t.Run("R-TEN-2_only_zero_fields_are_filled", func(t *testing.T) {
		in := gdpr.Retention{
			Inactivity:       gdpr.Period{Years: 1},
			ErasureGrace:     gdpr.Period{Days: 3},
			OptInTokenTTL:    gdpr.Period{Exact: 2 * time.Hour},
			SuspendedProgram: gdpr.Period{Months: 3},
		}
		got := in.WithDefaults()
		want := gdpr.DefaultRetention()
		want.Inactivity = gdpr.Period{Years: 1}
		want.ErasureGrace = gdpr.Period{Days: 3}
		want.OptInTokenTTL = gdpr.Period{Exact: 2 * time.Hour}
		want.SuspendedProgram = gdpr.Period{Months: 3}
		require.Equal(t, want, got)
	})
	t.Run("R-TEN-2_non-zero_invalid_values_are_kept_for_Validate_to_refuse", func(t *testing.T) {
		got := gdpr.Retention{ErasureGrace: gdpr.Period{Days: -7}}.WithDefaults()
		require.Equal(t, gdpr.Period{Days: -7}, got.ErasureGrace)
		require.Error(t, got.Validate())
	})
	t.Run("R-TEN-2_the_receiver_is_not_modified", func(t *testing.T) {
		in := gdpr.Retention{Inactivity: gdpr.Period{Years: 2}}
		_ = in.WithDefaults()
		require.Equal(t, gdpr.Retention{Inactivity: gdpr.Period{Years: 2}}, in)
	})
	t.Run("R-TEN-2_full_retention_is_unchanged", func(t *testing.T) {
		full := gdpr.DefaultRetention()
		full.Inactivity = gdpr.Period{Years: 2}
		require.Equal(t, full, full.WithDefaults())
	})
}

func TestFieldRulesRequirement(t *testing.T) {
	f := gdpr.FieldRules{"lastName": gdpr.FieldRequired, "alias": gdpr.FieldNotAsked}
	require.Equal(t, gdpr.FieldRequired, f.Requirement("lastName"))
	require.Equal(t, gdpr.FieldNotAsked, f.Requirement("alias"))
	require.Equal(t, gdpr.FieldOptional, f.Requirement("firstName"), "R-SIGNUP-6 absent means optional")
	require.Equal(t, gdpr.FieldOptional, gdpr.FieldRules(nil).Requirement("firstName"))
}

func TestBrandEnded(t *testing.T) {
	b := validTestBrand()
	require.False(t, b.Ended())
	b.Status = gdpr.BrandEnded
	require.True(t, b.Ended(), "R-ERASE-7")
}

func TestWebhookSecretKey(t *testing.T) {
	key, ok := gdpr.WebhookSecretKey(whsec(32))
	require.True(t, ok)
	require.Equal(t, []byte(strings.Repeat("s", 32)), key)
	_, ok = gdpr.WebhookSecretKey("wh_" + base64.StdEncoding.EncodeToString([]byte("x")))
	require.False(t, ok)
	_, ok = gdpr.WebhookSecretKey("whsec_%%%")
	require.False(t, ok)
}

// TestRTen2NoRetentionPastThreeYears: a brand may shorten a retention duration, never lengthen
// it past three years (R-TEN-2).
// guide: "Personal Data is never kept in the Popsell databases for more than 3 years after the
// last action performed by the user. This deadline may be shortened if required by the Brand."
func TestRTen2NoRetentionPastThreeYears(t *testing.T) {
	threeYears := gdpr.Period{Years: 3}
	longer := gdpr.Period{Years: 3, Days: 1}
	fields := map[string]func(*gdpr.Retention) *gdpr.Period{
		"inactivity":           func(r *gdpr.Retention) *gdpr.Period { return &r.Inactivity },
		"externalInactivity":   func(r *gdpr.Retention) *gdpr.Period { return &r.ExternalInactivity },
		"contactInactivity":    func(r *gdpr.Retention) *gdpr.Period { return &r.ContactInactivity },
		"newContactInvitation": func(r *gdpr.Retention) *gdpr.Period { return &r.NewContactInvitation },
		"optedOutContact":      func(r *gdpr.Retention) *gdpr.Period { return &r.OptedOutContact },
		"unconfirmedSignup":    func(r *gdpr.Retention) *gdpr.Period { return &r.UnconfirmedSignup },
	}
	for name, field := range fields {
		t.Run(name+"_of_3_years_accepted", func(t *testing.T) {
			b := validTestBrand()
			*field(&b.Retention) = threeYears
			require.NoError(t, b.Validate())
		})
		t.Run(name+"_past_3_years_refused", func(t *testing.T) {
			b := validTestBrand()
			*field(&b.Retention) = gdpr.Period{Years: 5}
			err := b.Validate()
			require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(err))
			require.ErrorContains(t, err, "retention."+name+" must be a positive duration of at most P3Y")
			require.NotContains(t, err.Error(), "P5Y", "the message names the bound, never the value")
			*field(&b.Retention) = longer
			require.Equal(t, gdpr.CodeInvalid, gdpr.ErrorCode(b.Validate()))
		})
	}
	// guide: "data can be kept in the database, for a maximum of 6 months" (R-ERASE-8)
	t.Run("suspendedProgram_past_6_months_refused", func(t *testing.T) {
		b := validTestBrand()
		b.Retention.SuspendedProgram = gdpr.Period{Months: 6}
		require.NoError(t, b.Validate())
		b.Retention.SuspendedProgram = gdpr.Period{Months: 6, Days: 1}
		require.ErrorContains(t, b.Validate(), "retention.suspendedProgram must be a positive duration of at most P6M")
	})
}
