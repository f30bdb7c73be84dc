%% Paper 7.1: a ring of 250,000 processes (see ring.scm).
-module(ring).
-export([main/1]).

relay(Next) ->
    receive
        M when M > 0 -> Next ! (M - 1), relay(Next);
        _ -> Next ! 0, done
    end.

make(1, Next) -> Next;
make(I, Next) -> make(I - 1, spawn(fun() -> relay(Next) end)).

main_relay(First) ->
    receive
        M when M > 0 -> First ! (M - 1), main_relay(First);
        _ -> T1 = erlang:monotonic_time(microsecond), First ! 0,
             wait_all(),
             {T1, erlang:monotonic_time(microsecond)}
    end.

%% The final lap: wait until the ring's processes have all ended.
wait_all() ->
    case erlang:system_info(process_count) > get(baseline) of
        true -> receive after 1 -> wait_all() end;
        false -> ok
    end.

main([SeedS]) ->
    Seed = list_to_integer(SeedS),
    put(baseline, erlang:system_info(process_count)),
    T0 = erlang:monotonic_time(microsecond),
    First = make(250000, self()),
    First ! Seed,
    {T1, T2} = main_relay(First),
    io:format("(first-zero ~f all-done ~f)~n", [(T1 - T0) / 1.0e6, (T2 - T0) / 1.0e6]),
    halt().
