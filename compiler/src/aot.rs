//! The ahead-of-time back end (`termitec build`): compiles the program to an
//! object file with cranelift-object, emits the `termite_program`
//! descriptor the runtime's `main` reads, and links it with the runtime's
//! static library (embedded in this binary) using the system `cc`.

use crate::closure;
use crate::codegen::{self, lower_program};
use cranelift_module::{DataDescription, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use std::path::{Path, PathBuf};
use std::process::Command;

static RUNTIME_LIB: &[u8] = include_bytes!(env!("TERMITE_RT_LIB"));

/// Compiles `p` to object code.
pub fn compile_object(p: &closure::Program, clif: Option<&mut String>) -> Result<Vec<u8>, String> {
    let isa = codegen::host_isa(true)?;
    let builder = ObjectBuilder::new(
        isa,
        "termite_program",
        cranelift_module::default_libcall_names(),
    )
    .map_err(|e| e.to_string())?;
    let mut module = ObjectModule::new(builder);
    let lowered = lower_program(&mut module, p, clif, false)?;
    let err = |e: cranelift_module::ModuleError| e.to_string();

    let data =
        postcard::to_stdvec(&codegen::program_data(p, &lowered)).map_err(|e| e.to_string())?;
    let data_id = module
        .declare_data("termite_program_data", Linkage::Local, false, false)
        .map_err(err)?;
    let mut dd = DataDescription::new();
    dd.define(data.clone().into_boxed_slice());
    module.define_data(data_id, &dd).map_err(err)?;

    let table_id = module
        .declare_data("termite_code_table", Linkage::Local, false, false)
        .map_err(err)?;
    let mut td = DataDescription::new();
    let code: Vec<_> = lowered.code_order().collect();
    td.define(vec![0u8; 8 * code.len().max(1)].into_boxed_slice());
    for (i, f) in code.iter().enumerate() {
        let fref = module.declare_func_in_data(*f, &mut td);
        td.write_function_addr(8 * i as u32, fref);
    }
    module.define_data(table_id, &td).map_err(err)?;

    // `ProgramDesc`: data, data_len, code, code_len, entry, main, halt, raise_return.
    let desc_id = module
        .declare_data("termite_program", Linkage::Export, false, false)
        .map_err(err)?;
    let mut desc = DataDescription::new();
    let mut bytes = vec![0u8; 8 * 8];
    bytes[8..16].copy_from_slice(&(data.len() as u64).to_le_bytes());
    bytes[24..32].copy_from_slice(&(code.len() as u64).to_le_bytes());
    desc.define(bytes.into_boxed_slice());
    let gv = module.declare_data_in_data(data_id, &mut desc);
    desc.write_data_addr(0, gv, 0);
    let tv = module.declare_data_in_data(table_id, &mut desc);
    desc.write_data_addr(16, tv, 0);
    let main = lowered.functions[p.main as usize];
    for (off, f) in [
        (32, lowered.entry),
        (40, main),
        (48, lowered.halt),
        (56, lowered.raise_return),
    ] {
        let fref = module.declare_func_in_data(f, &mut desc);
        desc.write_function_addr(off, fref);
    }
    module.define_data(desc_id, &desc).map_err(err)?;

    let product = module.finish();
    product.emit().map_err(|e| e.to_string())
}

/// The runtime's static library, written once to a cache directory.
fn runtime_library() -> Result<PathBuf, String> {
    if let Ok(p) = std::env::var("TERMITE_RUNTIME_LIB") {
        return Ok(PathBuf::from(p));
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&RUNTIME_LIB.len(), &mut hasher);
    std::hash::Hash::hash(&RUNTIME_LIB[..RUNTIME_LIB.len().min(1 << 20)], &mut hasher);
    let key = std::hash::Hasher::finish(&hasher);
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    let dir = base
        .join("termitec")
        .join(format!("{}-{key:016x}", env!("CARGO_PKG_VERSION")));
    let lib = dir.join("libtermite_runtime.a");
    if lib
        .metadata()
        .map(|m| m.len() as usize == RUNTIME_LIB.len())
        .unwrap_or(false)
    {
        return Ok(lib);
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let tmp = dir.join(format!("lib.{}.tmp", std::process::id()));
    std::fs::write(&tmp, RUNTIME_LIB)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &lib).map_err(|e| format!("cannot write {}: {e}", lib.display()))?;
    Ok(lib)
}

/// Links object code with the runtime into the executable `out`.
pub fn link(object: &[u8], out: &Path) -> Result<(), String> {
    let lib = runtime_library()?;
    let obj_path = out.with_extension(format!("termite-{}.o", std::process::id()));
    std::fs::write(&obj_path, object)
        .map_err(|e| format!("cannot write {}: {e}", obj_path.display()))?;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let result = Command::new(&cc)
        .arg(&obj_path)
        .arg(&lib)
        .args([
            "-lgcc_s",
            "-lutil",
            "-lrt",
            "-lpthread",
            "-lm",
            "-ldl",
            "-lc",
            "-Wl,--gc-sections",
            "-o",
        ])
        .arg(out)
        .output();
    let _ = std::fs::remove_file(&obj_path);
    match result {
        Ok(o) if o.status.success() => Ok(()),
        Ok(o) => Err(format!(
            "linking with `{cc}` failed:\n{}",
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => Err(format!(
            "cannot run the linker `{cc}`: {e} (install a C compiler, e.g. `apt-get install gcc`)"
        )),
    }
}
