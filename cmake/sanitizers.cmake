# MMOE_SANITIZE=ON: AddressSanitizer + UndefinedBehaviorSanitizer on the library, CLI and tests.
function(mmoe_set_sanitizers target)
  if(MMOE_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer
      -fno-sanitize-recover=undefined)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()
