# Writes OUTPUT, a C++ file defining `std::string_view NAMESPACE::FUNCTION()` that returns the
# bytes of INPUT, declared in HEADER.
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; do not edit.\n#include \"${HEADER}\"\n\nnamespace ${NAMESPACE} {\nnamespace {\nconstexpr char kBytes[] = {${bytes} '\\0'};\n}  // namespace\n\nstd::string_view ${FUNCTION}() { return {kBytes, ${size}}; }\n\n}  // namespace ${NAMESPACE}\n")
