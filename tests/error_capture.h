// Capturing the mmoe::Error a piece of code must throw, for the tests' checks of kind, message and place.
#pragma once

#include <exception>
#include <typeinfo>

#include <gtest/gtest.h>

#include "mmoe/error.h"

namespace mmoe::test {

// The mmoe::Error that f() throws; a test failure (and an internal error to check against) if it throws
// another exception or none.
template <typename F>
mmoe::Error catch_error(F&& f) {
  try {
    f();
  } catch (const mmoe::Error& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected an mmoe::Error, got " << typeid(e).name() << ": " << e.what();
    return mmoe::Error(mmoe::ErrorKind::internal, "wrong exception");
  }
  ADD_FAILURE() << "expected an mmoe::Error, nothing was thrown";
  return mmoe::Error(mmoe::ErrorKind::internal, "nothing thrown");
}

// catch_error, and the error must be of `kind`.
template <typename F>
mmoe::Error expect_error(F&& f, mmoe::ErrorKind kind) {
  mmoe::Error e = catch_error(f);
  EXPECT_EQ(e.kind(), kind) << e.what();
  return e;
}

}  // namespace mmoe::test
