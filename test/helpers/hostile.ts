/** Values that break naive quoting: every kind of quote, subexpressions, separators, newlines, stop-parsing, NUL, long unicode. */
export const HOSTILE = [
  "it's", 'a\u2018b\u2019c\u201ad\u201be', "''", "'; Remove-Item C:\\ -Recurse; '", '$(Invoke-Expression whoami)', '`$env:PATH`', 'a;b', 'a|b',
  'line1\nline2\r\nline3', '--% stop parsing', 'nul\0inside', '\0', 'x'.repeat(2000), '日本語のパス\\€😀'.repeat(50), '@(1,2)', '{ scriptblock }', '#comment', '"double"',
];
