#include "http/errors.h"

#include <assert.h>

static const struct api_error_def table[E_COUNT] = {
    [E_NONE] = {200, "ok", "OK", "成功"},
    [E_BAD_JSON] = {400, "bad_json", "Malformed JSON", "JSON 格式错误"},
    [E_VALIDATION] = {400, "validation_failed", "Validation failed", "校验失败"},
    [E_UNAUTHORIZED] = {401, "unauthorized", "Unauthorized", "未登录或令牌无效"},
    [E_INVALID_CREDENTIALS] = {401, "invalid_credentials", "Invalid credentials",
        "凭据无效"},
    [E_FORBIDDEN] = {403, "forbidden", "Forbidden", "无权访问"},
    [E_NOT_FOUND] = {404, "not_found", "Not found", "未找到"},
    [E_METHOD_NOT_ALLOWED] = {405, "method_not_allowed", "Method not allowed",
        "不允许的请求方法"},
    [E_CONFLICT] = {409, "conflict", "Conflict", "冲突"},
    [E_OUT_OF_STOCK] = {409, "out_of_stock", "Out of stock", "库存不足"},
    [E_INVALID_STATE] = {409, "invalid_state", "Invalid state", "当前状态不允许此操作"},
    [E_IDEMPOTENCY_MISMATCH] = {409, "idempotency_mismatch", "Idempotency mismatch",
        "幂等键不匹配"},
    [E_PAYLOAD_TOO_LARGE] = {413, "payload_too_large", "Payload too large",
        "请求体过大"},
    [E_UNSUPPORTED_MEDIA_TYPE] = {415, "unsupported_media_type",
        "Unsupported media type", "不支持的媒体类型"},
    [E_RATE_LIMITED] = {429, "rate_limited", "Too many requests", "请求过于频繁"},
    [E_INTERNAL] = {500, "internal", "Internal error", "服务器内部错误"},
    [E_BAD_REQUEST] = {400, "bad_request", "Bad request", "请求错误"},
    [E_HEADERS_TOO_LARGE] = {431, "headers_too_large",
        "Request header fields too large", "请求头过大"},
    [E_NOT_IMPLEMENTED] = {501, "not_implemented", "Not implemented", "未实现"},
    [E_UNAVAILABLE] = {503, "unavailable", "Service unavailable", "服务暂不可用"},
};

const struct api_error_def *
api_error_def(enum api_error e)
{
	assert(e < E_COUNT);
	return &table[e];
}

enum api_error
api_error_for_status(int status)
{
	/* Prefer the generic error of a status over the specific ones. */
	switch (status) {
	case 400:
		return E_BAD_REQUEST;
	case 401:
		return E_UNAUTHORIZED;
	case 409:
		return E_CONFLICT;
	}
	for (int e = E_BAD_JSON; e < E_COUNT; e++)
		if (table[e].status == status)
			return (enum api_error)e;
	return E_INTERNAL;
}

json_t *
problem_new(enum api_error e, enum lang l, const char *field, const char *detail)
{
	const struct api_error_def *d = api_error_def(e);
	json_t *p = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title",
	    l == LANG_ZH ? d->title_zh : d->title, "status", d->status, "code",
	    d->code);
	if (detail != NULL) {
		char text[1024];
		msg_translate(l, detail, text, sizeof(text));
		json_object_set_new(p, "detail", json_string(text));
	}
	if (field != NULL)
		json_object_set_new(p, "field", json_string(field));
	return p;
}
