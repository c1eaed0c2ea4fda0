# tfx_add_model(<target> <model>
#               [NAME <c-identifier>]        default: the model's file name
#               [WEIGHTS embed|external]     default: embed
#               [CPU <cpu>]                  e.g. native, cascadelake, x86-64-v3
#               [ARGS <tfx-compile args>...]) e.g. --input-shape input_ids=1x128
#
# Compiles <model> (an .onnx or .mlir file, or a folder with config.json and
# model.safetensors) with `tfx-compile --target cpu --emit=obj` at build time,
# adds the object to <target>, puts the generated <NAME>.h on its include
# path and links tfx::runtime. The object exports `const tfx_artifact
# <NAME>_artifact`, to be opened with tfx_model_open_embedded(). With
# WEIGHTS external the sidecar file <NAME>.weights is copied next to the
# target's binary; pass that folder as weights_dir.
function(tfx_add_model target model)
  cmake_parse_arguments(PARSE_ARGV 2 TFX "" "NAME;WEIGHTS;CPU" "ARGS")
  if(TFX_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tfx_add_model: unknown arguments ${TFX_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "tfx_add_model: '${target}' is not a target; call "
                        "add_executable/add_library first")
  endif()
  if(NOT TFX_COMPILE_EXECUTABLE)
    message(FATAL_ERROR "tfx_add_model: tfx-compile not found; build tfx or set "
                        "-DTFX_COMPILE_EXECUTABLE=/path/to/tfx-compile")
  endif()
  get_filename_component(model "${model}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  if(NOT EXISTS "${model}")
    message(FATAL_ERROR "tfx_add_model: no model at '${model}'")
  endif()

  if(NOT TFX_NAME)
    get_filename_component(TFX_NAME "${model}" NAME_WE)
    string(MAKE_C_IDENTIFIER "${TFX_NAME}" TFX_NAME)
  endif()
  if(NOT TFX_NAME MATCHES "^[A-Za-z_][A-Za-z0-9_]*$")
    message(FATAL_ERROR "tfx_add_model: NAME '${TFX_NAME}' is not a C identifier")
  endif()
  if(NOT TFX_WEIGHTS)
    set(TFX_WEIGHTS embed)
  endif()
  if(NOT TFX_WEIGHTS MATCHES "^(embed|external)$")
    message(FATAL_ERROR "tfx_add_model: WEIGHTS must be embed or external, not '${TFX_WEIGHTS}'")
  endif()

  # A folder model depends on its files; a file model on itself.
  if(IS_DIRECTORY "${model}")
    file(GLOB model_depends "${model}/*.json" "${model}/*.safetensors")
  else()
    set(model_depends "${model}")
  endif()

  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/tfx_models/${target}")
  set(object "${out_dir}/${TFX_NAME}.o")
  set(header "${out_dir}/${TFX_NAME}.h")
  set(outputs "${object}" "${header}")
  set(compile_args "${model}" --target cpu --emit=obj --weights "${TFX_WEIGHTS}"
      -o "${out_dir}/${TFX_NAME}")
  if(TFX_CPU)
    list(APPEND compile_args "--cpu=${TFX_CPU}")
  endif()
  list(APPEND compile_args ${TFX_ARGS})
  if(TFX_WEIGHTS STREQUAL "external")
    list(APPEND outputs "${out_dir}/${TFX_NAME}.weights")
  endif()

  file(MAKE_DIRECTORY "${out_dir}")
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND "${TFX_COMPILE_EXECUTABLE}" ${compile_args}
    DEPENDS ${model_depends} "${TFX_COMPILE_EXECUTABLE}"
    COMMENT "Compiling model ${TFX_NAME} (tfx-compile --target cpu)"
    VERBATIM)
  set_source_files_properties("${object}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  set_source_files_properties("${header}" PROPERTIES GENERATED TRUE HEADER_FILE_ONLY TRUE)
  target_sources(${target} PRIVATE "${object}" "${header}")
  target_include_directories(${target} PRIVATE "${out_dir}")
  target_link_libraries(${target} PRIVATE tfx::runtime)

  if(TFX_WEIGHTS STREQUAL "external")
    add_custom_command(TARGET ${target} POST_BUILD
      COMMAND "${CMAKE_COMMAND}" -E copy_if_different
              "${out_dir}/${TFX_NAME}.weights" "$<TARGET_FILE_DIR:${target}>"
      VERBATIM)
  endif()
endfunction()
