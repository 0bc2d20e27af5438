# Writes OUTPUT, a C++ file defining vigie::demo::devices_csv() with the bytes of INPUT.
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\n#include \"vigie/demo_data.h\"\n\nnamespace vigie::demo {\nnamespace {\nconstexpr char kBytes[] = {${bytes} '\\0'};\n}  // namespace\n\nstd::string_view devices_csv() { return {kBytes, ${size}}; }\n\n}  // namespace vigie::demo\n")
