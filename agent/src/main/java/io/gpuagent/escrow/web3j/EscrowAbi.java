package io.gpuagent.escrow.web3j;

import io.gpuagent.escrow.ClaimItem;
import io.gpuagent.escrow.RentalTerms;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Bool;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.DynamicBytes;
import org.web3j.abi.datatypes.DynamicStruct;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint16;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.abi.datatypes.generated.Uint64;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

import java.math.BigInteger;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Calldata of the GpuEscrow functions the agent calls, and decoding of its views, events and errors. */
final class EscrowAbi {
    static final String CLAIM_BATCH_SIGNATURE = "claimBatch((bytes32,uint64,uint256,bytes,bool)[])";
    static final String CLOSE_REQUESTED_TOPIC = Hash.sha3String("CloseRequested(bytes32,uint64)");
    private static final Pattern HEX_DATA = Pattern.compile("0x[0-9a-fA-F]{8,}");

    /** The escrow's custom errors (and OpenZeppelin's it can raise), by 4-byte selector. */
    private static final Map<String, String> ERRORS = new HashMap<>();

    static {
        for (String e : List.of("FeeTooHigh(uint256)", "ZeroAddress()", "ZeroDeposit()", "ZeroDuration()",
                "UnknownRental(bytes32)", "RentalClosedAlready(bytes32)", "NotProvider(bytes32,address)",
                "NotRenter(bytes32,address)", "NotPlatform(address)", "PastDeadline(bytes32,uint64)",
                "BeforeDeadline(bytes32,uint64)", "BadSignature(bytes32)", "AmountNotIncreasing(bytes32,uint256,uint256)",
                "OverDeposit(bytes32,uint256,uint256)", "OverRate(bytes32,uint256,uint256)",
                "SecondsInFuture(bytes32,uint64,uint64)", "OverDuration(bytes32,uint64,uint64)",
                "NothingToWithdraw(address)", "EmptyBatch()", "ReentrancyGuardReentrantCall()",
                "SafeERC20FailedOperation(address)")) {
            ERRORS.put(Hash.sha3String(e).substring(0, 10), e.substring(0, e.indexOf('(')));
        }
    }

    private EscrowAbi() {
    }

    static Function rentalFunction(String rentalId) {
        return new Function("rental", List.of(new Bytes32(Numeric.hexStringToByteArray(rentalId))), List.of(
                new TypeReference<Address>() { }, new TypeReference<Address>() { }, new TypeReference<Address>() { },
                new TypeReference<Uint256>() { }, new TypeReference<Uint256>() { }, new TypeReference<Uint256>() { },
                new TypeReference<Uint64>() { }, new TypeReference<Uint64>() { }, new TypeReference<Uint64>() { },
                new TypeReference<Uint16>() { }, new TypeReference<Bool>() { }));
    }

    @SuppressWarnings("rawtypes")
    static RentalTerms decodeRental(String rentalId, String result) {
        Function f = rentalFunction(rentalId);
        List<Type> v = FunctionReturnDecoder.decode(result, f.getOutputParameters());
        if (v.size() != 11) {
            throw new IllegalArgumentException("rental(" + rentalId + ") returned " + v.size() + " values instead of 11 (not a GpuEscrow?)");
        }
        return new RentalTerms(rentalId, addr(v.get(0)), addr(v.get(1)), addr(v.get(2)), uint(v.get(3)), uint(v.get(4)),
                uint(v.get(5)), uint(v.get(6)).longValueExact(), uint(v.get(7)).longValueExact(),
                uint(v.get(8)).longValueExact(), uint(v.get(9)).intValueExact(), (Boolean) v.get(10).getValue());
    }

    @SuppressWarnings("rawtypes")
    private static String addr(Type t) {
        return ((Address) t).getValue().toLowerCase(Locale.ROOT);
    }

    @SuppressWarnings("rawtypes")
    private static BigInteger uint(Type t) {
        return (BigInteger) t.getValue();
    }

    /** {@code claim(...)} for one item, {@code claimBatch(...)} for several. */
    static String claimCalldata(List<ClaimItem> items) {
        if (items.size() == 1) {
            ClaimItem c = items.get(0);
            return FunctionEncoder.encode(new Function("claim", List.of(new Bytes32(Numeric.hexStringToByteArray(c.rentalId())),
                    new Uint64(c.cumulativeSeconds()), new Uint256(c.cumulativeAmount()),
                    new DynamicBytes(Numeric.hexStringToByteArray(c.signature())), new Bool(c.close())), List.of()));
        }
        List<DynamicStruct> structs = items.stream().map(c -> new DynamicStruct(
                new Bytes32(Numeric.hexStringToByteArray(c.rentalId())), new Uint64(c.cumulativeSeconds()),
                new Uint256(c.cumulativeAmount()), new DynamicBytes(Numeric.hexStringToByteArray(c.signature())),
                new Bool(c.close()))).toList();
        String selector = Hash.sha3String(CLAIM_BATCH_SIGNATURE).substring(0, 10);
        return selector + FunctionEncoder.encodeConstructor(List.of(new DynamicArray<>(DynamicStruct.class, structs)));
    }

    /** The escrow error a revert carries (from an RPC error's data), or empty. */
    static Optional<String> errorName(String data) {
        if (data == null) {
            return Optional.empty();
        }
        Matcher m = HEX_DATA.matcher(data);
        while (m.find()) {
            String name = ERRORS.get(m.group().substring(0, 10).toLowerCase(Locale.ROOT));
            if (name != null) {
                return Optional.of(name);
            }
        }
        return Optional.empty();
    }
}
