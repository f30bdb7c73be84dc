//! Primitives: the runtime functions compiled code calls, and the table that
//! declares them to the compiler (name, the standard procedure it implements,
//! arity, symbol, address). Every function here is
//! `extern "C" fn(&mut Ctx, Value, ...) -> Value`; one that fails returns
//! `EXCEPTION` after setting `ctx.status` (see `Ctx::raise_error`).

/// Declares a primitive: an unmangled `extern "C"` function of the context
/// and its arguments.
macro_rules! prim {
    ($(#[$m:meta])* fn $name:ident($ctx:ident $(, $a:ident)*) $body:block) => {
        $(#[$m])*
        #[unsafe(no_mangle)]
        pub extern "C" fn $name($ctx: &mut Ctx $(, $a: Value)*) -> Value $body
    };
}

pub mod data;
mod nodes;
mod numbers;
pub mod ports;
pub mod process;
mod remote;
pub mod system;
mod text;

use crate::ctx::{Ctx, STATUS_RAISE};
use crate::records::make_error;
use crate::value::{EXCEPTION, Value};

/// The primitive has no side effect: a call whose result is unused may go.
pub const PURE: u8 = 1;
/// The primitive may fail (return `EXCEPTION`).
pub const FAILS: u8 = 2;

/// The arity of a primitive that takes any number of arguments. Such a
/// primitive is always compiled inline (`%record`: a record of its type and
/// fields, allocated from the entry check's reservation); its runtime
/// function only exists to fill the table and is never called.
pub const VARIADIC: u8 = u8::MAX;

pub struct PrimDef {
    pub name: &'static str,
    /// The standard procedure a call may be compiled to this primitive for
    /// (when the call has `arity` arguments), or "".
    pub alias: &'static str,
    pub arity: u8,
    pub symbol: &'static str,
    pub addr: Addr,
    pub flags: u8,
}

pub struct Addr(pub *const u8);
// SAFETY: the address of a function, immutable and valid for the program's life.
unsafe impl Sync for Addr {}

impl Ctx {
    /// Raises an error object made of `message` and `irritants`: records it
    /// as pending and returns `EXCEPTION` for the compiled caller to return.
    pub fn raise_error(&mut self, message: &str, irritants: &[Value]) -> Value {
        let m = self.string(message);
        let i = self.list(irritants);
        let e = make_error(self, m, i);
        self.raise_value(e)
    }

    pub fn raise_value(&mut self, v: Value) -> Value {
        self.pending = v;
        self.status = STATUS_RAISE;
        EXCEPTION
    }

    pub fn type_error(&mut self, proc_name: &str, expected: &str, v: Value) -> Value {
        let msg = format!("{proc_name}: expected {expected}, given");
        self.raise_error(&msg, &[v])
    }
}

macro_rules! prim_table {
    ($( $name:literal $alias:literal $arity:literal $f:path, $flags:expr; )*) => {
        pub static PRIMS: &[PrimDef] = &[
            $( PrimDef { name: $name, alias: $alias, arity: $arity, symbol: stringify!($f), addr: Addr($f as *const u8), flags: $flags }, )*
        ];
    };
}

use data::*;
use nodes::*;
use numbers::*;
use ports::*;
use process::*;
use remote::*;
use system::*;
use text::*;

prim_table! {
    // pairs and lists
    "%car" "car" 1 tm_car, PURE | FAILS;
    "%cdr" "cdr" 1 tm_cdr, PURE | FAILS;
    "%cons" "cons" 2 tm_cons, PURE;
    "%caar" "caar" 1 tm_caar, PURE | FAILS;
    "%cadr" "cadr" 1 tm_cadr, PURE | FAILS;
    "%cdar" "cdar" 1 tm_cdar, PURE | FAILS;
    "%cddr" "cddr" 1 tm_cddr, PURE | FAILS;
    "%caddr" "caddr" 1 tm_caddr, PURE | FAILS;
    "%cdddr" "cdddr" 1 tm_cdddr, PURE | FAILS;
    "%cadddr" "cadddr" 1 tm_cadddr, PURE | FAILS;
    "%pair?" "pair?" 1 tm_pair_p, PURE;
    "%null?" "null?" 1 tm_null_p, PURE;
    "%list?" "list?" 1 tm_list_p, PURE;
    "%length" "length" 1 tm_length, PURE | FAILS;
    "%append" "" 2 tm_append, PURE | FAILS;
    "%reverse" "reverse" 1 tm_reverse, PURE | FAILS;
    "%list-tail" "list-tail" 2 tm_list_tail, PURE | FAILS;
    "%list-ref" "list-ref" 2 tm_list_ref, PURE | FAILS;
    "%memq" "memq" 2 tm_memq, PURE;
    "%memv" "memv" 2 tm_memv, PURE;
    "%member" "member" 2 tm_member, PURE;
    "%assq" "assq" 2 tm_assq, PURE;
    "%assv" "assv" 2 tm_assv, PURE;
    "%assoc" "assoc" 2 tm_assoc, PURE;
    "%last-pair" "last-pair" 1 tm_last_pair, PURE | FAILS;
    // equivalence and types
    "%eq?" "eq?" 2 tm_eq_p, PURE;
    "%eqv?" "eqv?" 2 tm_eqv_p, PURE;
    "%equal?" "equal?" 2 tm_equal_p, PURE;
    "%not" "not" 1 tm_not, PURE;
    "%symbol?" "symbol?" 1 tm_symbol_p, PURE;
    "%string?" "string?" 1 tm_string_p, PURE;
    "%vector?" "vector?" 1 tm_vector_p, PURE;
    "%procedure?" "procedure?" 1 tm_procedure_p, PURE;
    "%boolean?" "boolean?" 1 tm_boolean_p, PURE;
    "%char?" "char?" 1 tm_char_p, PURE;
    "%bytevector?" "bytevector?" 1 tm_bytevector_p, PURE;
    "%eof-object?" "eof-object?" 1 tm_eof_object_p, PURE;
    "%eof-object" "eof-object" 0 tm_eof_object, PURE;
    "%default-object?" "" 1 tm_default_object_p, PURE;
    // vectors and bytevectors
    "%vector-ref" "vector-ref" 2 tm_vector_ref, PURE | FAILS;
    "%vector-length" "vector-length" 1 tm_vector_length, PURE | FAILS;
    "%make-vector" "" 2 tm_make_vector, PURE | FAILS;
    "%list->vector" "list->vector" 1 tm_list_to_vector, PURE | FAILS;
    "%vector->list" "" 3 tm_vector_to_list, PURE | FAILS;
    "%subvector" "" 3 tm_subvector, PURE | FAILS;
    "%vector-append" "" 2 tm_vector_append, PURE | FAILS;
    "%bytevector-u8-ref" "bytevector-u8-ref" 2 tm_bytevector_u8_ref, PURE | FAILS;
    "%bytevector-length" "bytevector-length" 1 tm_bytevector_length, PURE | FAILS;
    "%make-bytevector" "" 2 tm_make_bytevector, PURE | FAILS;
    "%list->bytevector" "" 1 tm_list_to_bytevector, PURE | FAILS;
    "%bytevector->list" "" 1 tm_bytevector_to_list, PURE | FAILS;
    "%subbytevector" "" 3 tm_subbytevector, PURE | FAILS;
    "%bytevector-append" "" 2 tm_bytevector_append, PURE | FAILS;
    // records and errors
    "%make-record-type" "" 3 tm_make_record_type, FAILS;
    "%make-record" "" 2 tm_make_record, PURE | FAILS;
    "%record" "" 255 tm_record_inline, PURE; // arity VARIADIC
    "%vector" "" 255 tm_vector_inline, PURE; // arity VARIADIC
    "%record-of?" "" 2 tm_record_of_p, PURE;
    "%record-ref" "" 3 tm_record_ref, PURE | FAILS;
    "%promise-state" "" 1 tm_promise_state, FAILS;
    "%promise-update!" "" 3 tm_promise_update, FAILS;
    "%make-error" "" 2 tm_make_error, PURE;
    "%error-object?" "error-object?" 1 tm_error_object_p, PURE;
    "%error-object-message" "error-object-message" 1 tm_error_object_message, PURE | FAILS;
    "%error-object-irritants" "error-object-irritants" 1 tm_error_object_irritants, PURE | FAILS;
    // numbers
    "%number?" "number?" 1 tm_number_p, PURE;
    "%integer?" "integer?" 1 tm_integer_p, PURE;
    "%exact-integer?" "exact-integer?" 1 tm_exact_integer_p, PURE;
    "%fixnum?" "fixnum?" 1 tm_fixnum_p, PURE;
    "%flonum?" "flonum?" 1 tm_flonum_p, PURE;
    "%exact?" "exact?" 1 tm_exact_p, PURE | FAILS;
    "%inexact?" "inexact?" 1 tm_inexact_p, PURE | FAILS;
    "%nan?" "nan?" 1 tm_nan_p, PURE | FAILS;
    "%add" "" 2 tm_add, PURE | FAILS;
    "%sub" "" 2 tm_sub, PURE | FAILS;
    "%mul" "" 2 tm_mul, PURE | FAILS;
    "%div" "" 2 tm_div, PURE | FAILS;
    "%lt" "" 2 tm_lt, PURE | FAILS;
    "%gt" "" 2 tm_gt, PURE | FAILS;
    "%le" "" 2 tm_le, PURE | FAILS;
    "%ge" "" 2 tm_ge, PURE | FAILS;
    "%num-eq" "" 2 tm_num_eq, PURE | FAILS;
    "%quotient" "quotient" 2 tm_quotient, PURE | FAILS;
    "%remainder" "remainder" 2 tm_remainder, PURE | FAILS;
    "%modulo" "modulo" 2 tm_modulo, PURE | FAILS;
    "%gcd2" "" 2 tm_gcd2, PURE | FAILS;
    "%abs" "abs" 1 tm_abs, PURE | FAILS;
    "%floor" "floor" 1 tm_floor, PURE | FAILS;
    "%ceiling" "ceiling" 1 tm_ceiling, PURE | FAILS;
    "%round" "round" 1 tm_round, PURE | FAILS;
    "%truncate" "truncate" 1 tm_truncate, PURE | FAILS;
    "%sqrt" "sqrt" 1 tm_sqrt, PURE | FAILS;
    "%exact-integer-sqrt" "" 1 tm_exact_integer_sqrt, PURE | FAILS;
    "%exp" "exp" 1 tm_exp, PURE | FAILS;
    "%log" "" 1 tm_log, PURE | FAILS;
    "%sin" "sin" 1 tm_sin, PURE | FAILS;
    "%cos" "cos" 1 tm_cos, PURE | FAILS;
    "%tan" "tan" 1 tm_tan, PURE | FAILS;
    "%asin" "asin" 1 tm_asin, PURE | FAILS;
    "%acos" "acos" 1 tm_acos, PURE | FAILS;
    "%atan" "" 1 tm_atan, PURE | FAILS;
    "%atan2" "" 2 tm_atan2, PURE | FAILS;
    "%expt" "expt" 2 tm_expt, PURE | FAILS;
    "%arithmetic-shift" "arithmetic-shift" 2 tm_arithmetic_shift, PURE | FAILS;
    "%exact" "exact" 1 tm_exact, PURE | FAILS;
    "%inexact" "inexact" 1 tm_inexact, PURE | FAILS;
    "%number->string" "" 2 tm_number_to_string, PURE | FAILS;
    "%string->number" "" 2 tm_string_to_number, PURE | FAILS;
    // characters
    "%char->integer" "char->integer" 1 tm_char_to_integer, PURE | FAILS;
    "%integer->char" "integer->char" 1 tm_integer_to_char, PURE | FAILS;
    "%char-upcase" "char-upcase" 1 tm_char_upcase, PURE | FAILS;
    "%char-downcase" "char-downcase" 1 tm_char_downcase, PURE | FAILS;
    "%char-alphabetic?" "char-alphabetic?" 1 tm_char_alphabetic_p, PURE | FAILS;
    "%char-numeric?" "char-numeric?" 1 tm_char_numeric_p, PURE | FAILS;
    "%char-whitespace?" "char-whitespace?" 1 tm_char_whitespace_p, PURE | FAILS;
    "%char-upper-case?" "char-upper-case?" 1 tm_char_upper_case_p, PURE | FAILS;
    "%char-lower-case?" "char-lower-case?" 1 tm_char_lower_case_p, PURE | FAILS;
    "%digit-value" "digit-value" 1 tm_digit_value, PURE | FAILS;
    // strings and symbols
    "%string-length" "string-length" 1 tm_string_length, PURE | FAILS;
    "%string-ref" "string-ref" 2 tm_string_ref, PURE | FAILS;
    "%substring" "" 3 tm_substring, PURE | FAILS;
    "%string-append2" "" 2 tm_string_append2, PURE | FAILS;
    "%string->symbol" "string->symbol" 1 tm_string_to_symbol, PURE | FAILS;
    "%symbol->string" "symbol->string" 1 tm_symbol_to_string, PURE | FAILS;
    "%string->list" "" 1 tm_string_to_list, PURE | FAILS;
    "%list->string" "list->string" 1 tm_list_to_string, PURE | FAILS;
    "%string-compare" "" 2 tm_string_compare, PURE | FAILS;
    "%string-ci-compare" "" 2 tm_string_ci_compare, PURE | FAILS;
    "%string-upcase" "string-upcase" 1 tm_string_upcase, PURE | FAILS;
    "%string-downcase" "string-downcase" 1 tm_string_downcase, PURE | FAILS;
    "%make-string" "" 2 tm_make_string, PURE | FAILS;
    "%string-search" "" 2 tm_string_search, PURE | FAILS;
    "%string->utf8" "string->utf8" 1 tm_string_to_utf8, PURE | FAILS;
    "%utf8->string" "utf8->string" 1 tm_utf8_to_string, PURE | FAILS;
    "%symbol-append2" "" 2 tm_symbol_append2, PURE | FAILS;
    "%gensym" "" 1 tm_gensym, 0;
    // output and the system
    "%display" "" 1 tm_display, 0;
    "%write" "" 1 tm_write, 0;
        "%flush-output" "" 0 tm_flush_output, 0;
    "%write-error" "" 1 tm_write_error, 0;
    "%exit" "" 1 tm_exit, FAILS;
    "%command-line" "command-line" 0 tm_command_line, PURE;
    "%getenv" "" 1 tm_getenv, PURE | FAILS;
    "%current-time" "current-time" 0 tm_current_time, 0;
    "%current-jiffy" "current-jiffy" 0 tm_current_jiffy, 0;
    "%define-global" "" 2 tm_define_global, FAILS;
    "%register" "" 1 tm_register, 0;
    "%set-register!" "" 2 tm_set_register, 0;
    "%uncaught" "" 1 tm_uncaught, FAILS;
    "%void" "void" 0 tm_void, PURE;
        "%procedure-code-id" "" 1 tm_procedure_code_id, PURE | FAILS;
    // processes and messages
    "%self" "self" 0 tm_self, PURE;
    "%pid?" "pid?" 1 tm_pid_p, PURE;
    "%spawn" "" 1 tm_spawn, FAILS;
    "%spawn-link" "" 1 tm_spawn_link, FAILS;
    "%send" "" 2 tm_send, FAILS;
    "%link" "" 2 tm_link, FAILS;
    "%mailbox-next" "" 1 tm_mailbox_next, FAILS;
    "%mailbox-ref" "" 1 tm_mailbox_ref, FAILS;
    "%mailbox-take" "" 1 tm_mailbox_take, FAILS;
    "%mailbox-pop" "" 0 tm_mailbox_pop, FAILS;
    "%no-message?" "" 1 tm_no_message_p, PURE;
    "%deadline" "" 1 tm_deadline, FAILS;
    "%make-tag" "make-tag" 0 tm_make_tag, 0;
        "%tag?" "tag?" 1 tm_tag_p, PURE;
    "%kill" "" 1 tm_kill, FAILS;
    "%publish" "" 2 tm_publish, FAILS;
    "%resolve" "" 1 tm_resolve, FAILS;
        "%loadavg" "" 0 tm_loadavg, 0;
        "%process-count" "process-count" 0 tm_process_count, 0;
    "%forwarding-count" "forwarding-count" 0 tm_forwarding_count, 0;
    // nodes
    "%current-node" "current-node" 0 tm_current_node, PURE;
    "%make-node" "make-node" 2 tm_make_node, FAILS;
    "%node?" "node?" 1 tm_node_p, PURE;
    "%node-host" "node-host" 1 tm_node_host, PURE | FAILS;
    "%node-port" "node-port" 1 tm_node_port, PURE | FAILS;
    "%pid-node" "pid-node" 1 tm_pid_node, PURE | FAILS;
    "%agent-send" "" 2 tm_agent_send, FAILS;
    "%set-agent!" "" 1 tm_set_agent, FAILS;
    "%node-listening?" "" 0 tm_node_listening, 0;
    "%bare-node?" "" 0 tm_bare_node, 0;
    "%watch-node" "" 2 tm_watch_node, FAILS;
    "%unwatch-node" "" 2 tm_unwatch_node, FAILS;
    "%congested?" "" 1 tm_congested_p, FAILS;
    "%pid-local?" "" 1 tm_pid_local_p, PURE;
    "%migrate-out" "" 2 tm_migrate_out, FAILS;
    "%migrate-result" "" 0 tm_migrate_result, FAILS;
    "%end-process" "" 0 tm_end_process, FAILS;
    "%output-port" "" 0 tm_output_port, PURE;
    "%error-port" "" 0 tm_error_port, PURE;
    "%display-to" "" 2 tm_display_to, FAILS;
    "%write-to" "" 2 tm_write_to, FAILS;
}

/// The runtime functions compiled code calls that are not primitives of
/// the language (arity and type failures, argument lists, `apply`).
pub use system::{
    tm_apply_list, tm_arity_error, tm_ensure_args, tm_not_procedure, tm_nursery_full, tm_rest_list,
    tm_unbound_global,
};

/// Every symbol compiled code may reference, with its address: the JIT
/// registers exactly these.
pub fn runtime_symbols() -> Vec<(&'static str, *const u8)> {
    let mut v: Vec<(&'static str, *const u8)> =
        PRIMS.iter().map(|p| (p.symbol, p.addr.0)).collect();
    v.push(("tm_apply_list", tm_apply_list as *const u8));
    v.push(("tm_arity_error", tm_arity_error as *const u8));
    v.push(("tm_ensure_args", tm_ensure_args as *const u8));
    v.push(("tm_not_procedure", tm_not_procedure as *const u8));
    v.push(("tm_rest_list", tm_rest_list as *const u8));
    v.push(("tm_nursery_full", tm_nursery_full as *const u8));
    v.push(("tm_unbound_global", tm_unbound_global as *const u8));
    v
}
