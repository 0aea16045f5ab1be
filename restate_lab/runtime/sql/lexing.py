"""Finding one's way through SQL text without parsing it: where strings, quoted names and comments end.

Used by the rewrites of the JSON functions and operators, which must never touch what is inside a string
literal (``'json_get_str('``), a quoted name or a comment.
"""

from __future__ import annotations


def skip_space(sql: str, pos: int) -> int:
    """The first position at or after ``pos`` that is not white space."""
    while pos < len(sql) and sql[pos].isspace():
        pos += 1
    return pos


def skip_quoted(sql: str, pos: int) -> int:
    """The position after the string literal, quoted identifier or comment at ``pos`` (``pos`` if none)."""
    if sql.startswith("--", pos):
        end = sql.find("\n", pos)
        return len(sql) if end < 0 else end + 1
    if sql.startswith("/*", pos):
        end = sql.find("*/", pos + 2)
        return len(sql) if end < 0 else end + 2
    ch = sql[pos]
    starts_word = pos == 0 or not (sql[pos - 1].isalnum() or sql[pos - 1] == "_")
    if ch in "eE" and sql.startswith("'", pos + 1) and starts_word:
        return close_quote(sql, pos + 1, "'", backslash=True)
    if ch in "'\"":
        return close_quote(sql, pos, ch, backslash=False)
    return pos


def close_quote(sql: str, pos: int, quote: str, *, backslash: bool) -> int:
    """The position after the quote that closes the one at ``pos`` (a doubled quote does not close)."""
    pos += 1
    while pos < len(sql):
        if backslash and sql[pos] == "\\":
            pos += 2
            continue
        if sql[pos] == quote:
            if sql.startswith(quote, pos + 1):  # a doubled quote stands for one
                pos += 2
                continue
            return pos + 1
        pos += 1
    return len(sql)


def masked(sql: str) -> str:
    """``sql`` with the insides of strings, quoted names and comments blanked out (same length), to search safely."""
    out = list(sql)
    pos = 0
    while pos < len(sql):
        end = skip_quoted(sql, pos)
        if end != pos:
            for i in range(pos + 1, end - 1):
                out[i] = " "
            pos = end
        else:
            pos += 1
    return "".join(out)


def matching_close(text: str, open_at: int) -> int:
    """The position of the ``)`` that closes the ``(`` at ``open_at`` in masked text, or -1 if none does."""
    depth = 0
    for pos in range(open_at, len(text)):
        if text[pos] == "(":
            depth += 1
        elif text[pos] == ")":
            depth -= 1
            if depth == 0:
                return pos
    return -1
