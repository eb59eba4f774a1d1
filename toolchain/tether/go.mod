module mindroom.cloud/toolchain/tether

go 1.26
