/*
 * test_http_oauth.c: the pure parts of the OAuth2 client: token answers,
 * good and bad, and form encoding of the grant's fields.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "connectors/coreview/oauth.h"
#include "connectors/secret.h"

Test(http_oauth, token_answers)
{
    static const struct {
        const char *body;
        bwm_err_t err;
        const char *token;
        int64_t expires_in_ms;
    } cases[] = {
        {"{\"access_token\":\"abc\",\"token_type\":\"Bearer\",\"expires_in\":3600}", BWM_OK, "abc",
         3600000},
        {"{\"access_token\":\"abc\",\"token_type\":\"bearer\",\"expires_in\":60}", BWM_OK, "abc",
         60000},
        {"{\"access_token\":\"abc\"}", BWM_OK, "abc", -1},
        {"{\"access_token\":\"abc\",\"expires_in\":99999999999}", BWM_OK, "abc",
         86400LL * 366 * 1000},
        {"{\"access_token\":\"abc\",\"token_type\":\"mac\"}", BWM_ERR_PARSE, NULL, 0},
        {"{\"access_token\":\"\"}", BWM_ERR_PARSE, NULL, 0},
        {"{\"token_type\":\"Bearer\"}", BWM_ERR_PARSE, NULL, 0},
        {"{\"access_token\":\"abc\",\"expires_in\":0}", BWM_ERR_PARSE, NULL, 0},
        {"{\"access_token\":\"abc\",\"expires_in\":\"60\"}", BWM_ERR_PARSE, NULL, 0},
        {"[\"access_token\"]", BWM_ERR_PARSE, NULL, 0},
        {"not json", BWM_ERR_PARSE, NULL, 0},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *token = NULL, err[256] = "";
        int64_t exp = 0;
        bwm_err_t got =
            bwm_oauth_parse(cases[i].body, strlen(cases[i].body), &token, &exp, err, sizeof(err));

        cr_expect_eq(got, cases[i].err, "%s: %d (%s)", cases[i].body, got, err);
        if (cases[i].err == BWM_OK && got == BWM_OK) {
            cr_expect_str_eq(token, cases[i].token, "%s", cases[i].body);
            cr_expect_eq(exp, cases[i].expires_in_ms, "%s: %lld", cases[i].body, (long long)exp);
        } else {
            cr_expect(err[0] != '\0', "%s: no message", cases[i].body);
        }
        bwm_secret_free(token);
    }
}

Test(http_oauth, form_escape)
{
    bwm_buf_t b;

    bwm_buf_init(&b);
    bwm_oauth_form_escape(&b, "read:results write a+b/c~d_e.f-g*h&i=j%");
    bwm_buf_put_u8(&b, 0);
    cr_assert_str_eq((char *)b.b_data, "read%3Aresults+write+a%2Bb%2Fc%7Ed_e.f-g*h%26i%3Dj%25");
    bwm_buf_free(&b);
}
