# Turns a file into a C header holding its bytes:
#   static const unsigned char <NAME>[] = { 0x.., ... };
# Run as: cmake -DIN=file -DOUT=header -DNAME=symbol -P embed.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n  " bytes "${bytes}")
get_filename_component(base "${IN}" NAME)
file(WRITE "${OUT}.tmp" "/* Generated from ${base}; do not edit. */\nstatic const unsigned char ${NAME}[] = {\n  ${bytes}\n};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
