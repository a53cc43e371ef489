# Writes the PTX file IN as a NUL-terminated C char array named NAME into OUT.
# Run as: cmake -DIN=... -DOUT=... -DNAME=... -P embed.cmake
# Hex bytes rather than a string literal: no escaping rules to get wrong, no length limits.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" len)
if(len EQUAL 0)
  message(FATAL_ERROR "embed.cmake: ${IN} is empty")
endif()
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
# Break the initialiser into lines of 16 bytes so compilers and editors stay comfortable.
string(REGEX REPLACE "((0x..,){16})" "\\1\n\t" bytes "${bytes}")
file(WRITE "${OUT}"
  "/* Generated from ${IN} by embed.cmake; do not edit. */\n"
  "const char ${NAME}[] = {\n\t${bytes}0x00\n};\n")
