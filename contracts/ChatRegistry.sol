// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title chatbox channel registry and history anchors
/// @notice Lists public chat channels by name, records who joined them, and anchors
///         batches of channel history: a Merkle root over channel heads plus the IPFS CID
///         of the manifest that explains the leaves.
/// @dev Names are normalized by the box before they reach the chain (NFKC, case-folded,
///      trimmed); the contract enforces what it can check cheaply: not empty, bounded,
///      no ASCII upper case, no control characters and no space at either end.
contract ChatRegistry {
    /// @notice Longest channel name in bytes (64 characters of up to 4 UTF-8 bytes each).
    uint256 public constant MAX_NAME_BYTES = 256;
    /// @notice Most channels `listChannels` returns in one page.
    uint256 public constant MAX_PAGE = 100;

    struct Channel {
        bytes32 id;
        string name;
        address creator;
        uint64 createdAt;
        uint64 joins;
    }

    bytes32[] private _channelIds;
    mapping(bytes32 => Channel) private _channels;
    mapping(bytes32 => mapping(address => bool)) private _joined;
    uint256 public anchorCount;

    /// @notice A public channel was created; `id` is keccak256 of the normalized name.
    event ChannelCreated(bytes32 indexed id, string name, address indexed creator);
    /// @notice `member` (a box account) joined the channel `id`.
    event ChannelJoined(bytes32 indexed id, address indexed member);
    /// @notice A box anchored a batch: `root` over its channel heads, explained by `manifest`.
    event Anchored(address indexed box, uint256 indexed batch, bytes32 root, string manifest);

    error EmptyName();
    error NameTooLong(uint256 length, uint256 limit);
    error NameNotNormalized();
    error ChannelExists(bytes32 id);
    error UnknownChannel(bytes32 id);
    error EmptyRoot();
    error EmptyManifest();

    /// @notice Create a public channel; reverts if the name is taken.
    /// @param name the normalized channel name
    /// @return id keccak256 of the name, the channel's id everywhere
    function createChannel(string calldata name) external returns (bytes32 id) {
        _checkName(bytes(name));
        id = keccak256(bytes(name));
        if (_channels[id].creator != address(0)) revert ChannelExists(id);
        _channels[id] = Channel(id, name, msg.sender, uint64(block.timestamp), 0);
        _channelIds.push(id);
        emit ChannelCreated(id, name, msg.sender);
    }

    /// @notice Record that the calling box joined channel `id`; joining twice is a no-op.
    function join(bytes32 id) external {
        Channel storage channel = _channels[id];
        if (channel.creator == address(0)) revert UnknownChannel(id);
        if (_joined[id][msg.sender]) return;
        _joined[id][msg.sender] = true;
        channel.joins += 1;
        emit ChannelJoined(id, msg.sender);
    }

    /// @notice Anchor one batch of channel history.
    /// @param root Merkle root over the salted leaves of the batch
    /// @param manifest IPFS CID of the batch manifest
    /// @return batch the sequence number of this anchor across all boxes
    function anchor(bytes32 root, string calldata manifest) external returns (uint256 batch) {
        if (root == bytes32(0)) revert EmptyRoot();
        if (bytes(manifest).length == 0) revert EmptyManifest();
        batch = anchorCount;
        anchorCount = batch + 1;
        emit Anchored(msg.sender, batch, root, manifest);
    }

    /// @notice How many public channels exist.
    function channelCount() external view returns (uint256) {
        return _channelIds.length;
    }

    /// @notice One channel by id; reverts if unknown.
    function channel(bytes32 id) external view returns (Channel memory) {
        Channel storage found = _channels[id];
        if (found.creator == address(0)) revert UnknownChannel(id);
        return found;
    }

    /// @notice Whether `member` joined channel `id`.
    function hasJoined(bytes32 id, address member) external view returns (bool) {
        return _joined[id][member];
    }

    /// @notice A page of channels in creation order: at most `limit` (capped at MAX_PAGE)
    ///         starting at `offset`; an offset past the end gives an empty page.
    function listChannels(uint256 offset, uint256 limit) external view returns (Channel[] memory page) {
        uint256 total = _channelIds.length;
        if (limit > MAX_PAGE) limit = MAX_PAGE;
        if (offset >= total) return new Channel[](0);
        uint256 end = offset + limit > total ? total : offset + limit;
        page = new Channel[](end - offset);
        for (uint256 i = offset; i < end; i++) {
            page[i - offset] = _channels[_channelIds[i]];
        }
    }

    function _checkName(bytes calldata name) private pure {
        if (name.length == 0) revert EmptyName();
        if (name.length > MAX_NAME_BYTES) revert NameTooLong(name.length, MAX_NAME_BYTES);
        if (name[0] == 0x20 || name[name.length - 1] == 0x20) revert NameNotNormalized();
        for (uint256 i = 0; i < name.length; i++) {
            bytes1 char = name[i];
            if (char < 0x20 || char == 0x7f || (char >= 0x41 && char <= 0x5a)) revert NameNotNormalized();
        }
    }
}
